#!/usr/bin/env node
import { enableCompileCache } from './compile-cache.js';
import { defaultIo } from './output.js';
import { main, reportError } from './run.js';

// a reader that stops early (`kitty board | head -1`) ends the command quietly, as it does `cat`
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(stream === process.stdout ? 0 : (process.exitCode ?? 0));
  });
}

const io = defaultIo();
// before any command module loads: they are what the cache saves compiling
enableCompileCache(io.env);
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportError(error, io);
  },
);

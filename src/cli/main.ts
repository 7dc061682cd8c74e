#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
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

// TurboFan's inlining builds big graphs of kitty's async walk, compiled again after each deopt on
// background threads: on 2 cores a 5,000-commit derive lost ~10% to it, and 40,000 commits ran
// no slower without it (the hot work is in builtins: regexes, strings, JSON, SQLite). The server
// runs for days and keeps V8's defaults.
if (process.argv[2] !== 'server') setFlagsFromString('--no-turbo-inlining');

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

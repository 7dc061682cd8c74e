// Runs a CLI module in this process and records its peak RSS (KiB) to a file at exit:
// node bench/rss.mjs OUT_FILE CLI_PATH ARGS...
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [out, cli, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], cli, ...args];
process.on('exit', () => writeFileSync(out, String(process.resourceUsage().maxRSS)));
await import(pathToFileURL(cli).href);

import { uninstallHooks } from '../../hooks/install.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, sanitize } from '../output.js';

export const command: Command = {
  help: `Usage: kitty hooks uninstall [--json]

Removes only what \`kitty hooks install\` wrote, and puts back any hook it had chained, byte for
byte. Queued events stay queued.

Options:
  --json     print what was removed and restored as JSON
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { json: { type: 'boolean' } }, 'kitty hooks uninstall');
    const result = await uninstallHooks({ cwd: io.cwd, env: io.env });
    if (values.json) {
      printJson(io, result);
      return 0;
    }
    for (const path of result.removed) io.stdout.write(`removed   ${sanitize(path)}\n`);
    for (const path of result.restored) io.stdout.write(`restored  ${sanitize(path)}\n`);
    if (result.removed.length === 0) io.stdout.write('kitty: no kitty hooks were installed here\n');
    return 0;
  },
};

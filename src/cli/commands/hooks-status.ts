import { hooksStatus } from '../../hooks/install.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, painter, printJson, sanitize } from '../output.js';

export const command: Command = {
  help: `Usage: kitty hooks status [--json]

Lists each kitty hook: installed, chained (your own hook runs too), stale (points at a node or
kitty that moved: reinstall), missing, or foreign (another tool's hook; install chains it). Names
the committed husky hooks (.husky/<hook>) that call kitty while kitty's hooks are not installed in
this clone (they do nothing here until \`kitty hooks install\` runs, e.g. from "prepare").
Exits 1 when any hook is not working.

Options:
  --json     print the status as JSON
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { json: { type: 'boolean' } }, 'kitty hooks status');
    const status = await hooksStatus({ cwd: io.cwd, env: io.env });
    const ok = status.hooks.every((hook) => hook.state === 'installed' || hook.state === 'chained');
    if (values.json) {
      printJson(io, { hooks_dir: status.hooksDir, husky: status.husky, hooks: status.hooks, unwired_husky_calls: status.unwiredHuskyCalls, ok });
      return ok ? 0 : 1;
    }
    const paint = painter(io.stdout, io.env);
    io.stdout.write(`hooks dir: ${sanitize(status.hooksDir)}${status.husky ? ' (husky)' : ''}\n`);
    for (const hook of status.hooks) {
      const color = hook.state === 'installed' || hook.state === 'chained' ? paint.green : paint.yellow;
      io.stdout.write(
        `  ${hook.name.padEnd(16)} ${color(hook.state.padEnd(9))}${sanitize(`${hook.chained ? ` runs ${hook.chained} too` : ''}${hook.detail ? ` ${hook.detail}` : ''}`)}\n`,
      );
    }
    if (status.unwiredHuskyCalls.length > 0) {
      io.stderr.write(
        `kitty: ${sanitize(status.unwiredHuskyCalls.join(', '))} call kitty, but kitty's hooks are not installed in this clone, so nothing is captured here; fix: \`kitty hooks install\` (and run it from package.json "prepare")\n`,
      );
    } else if (!ok) io.stderr.write('kitty: some hooks are not working; fix: `kitty hooks install`\n');
    return ok ? 0 : 1;
  },
};

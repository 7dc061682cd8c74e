import { runDoctor } from '../../doctor/index.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, painter, printJson, sanitize } from '../output.js';

export const command: Command = {
  help: `Usage: kitty doctor [--json]

Checks the whole capture path: node, git, the repository, the hooks dir and hooks (and committed
husky hooks calling kitty in a clone without kitty's hooks), the project identity, the queue,
waiting capture requests, the work packages (malformed frontmatter, bad status lines, unknown
lanes, by file), the last problem the background hook worker met, the last delivery error, the
login, the server and, when logged in, a delivery WebSocket (opened and closed at once). Prints a
fix for each problem. Exits 1 when a check fails.

It changes nothing, with one exception: the worker's last problem, once shown here, is
acknowledged (<git common dir>/kitty/problem is removed), so hooks stop printing it.

Options:
  --json     print {ok, checks: [{name, status, detail, fix}]} as JSON
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { json: { type: 'boolean' } }, 'kitty doctor');
    const checks = await runDoctor({ cwd: io.cwd, env: io.env });
    const ok = checks.every((check) => check.status !== 'fail');
    if (values.json) {
      printJson(io, { ok, checks });
      return ok ? 0 : 1;
    }
    const paint = painter(io.stdout, io.env);
    const mark = { ok: paint.green('ok  '), warn: paint.yellow('warn'), fail: paint.red('FAIL'), skip: paint.dim('skip') };
    for (const check of checks) {
      io.stdout.write(`${mark[check.status]}  ${check.name.padEnd(13)} ${sanitize(check.detail)}\n`);
      if (check.fix) io.stdout.write(`      ${''.padEnd(13)} fix: ${sanitize(check.fix)}\n`);
    }
    return ok ? 0 : 1;
  },
};

import { installHooks } from '../../hooks/install.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, sanitize, warner } from '../output.js';

export const command: Command = {
  help: `Usage: kitty hooks install [--force] [--json]

Installs kitty's git hooks (post-commit, post-merge, post-rewrite, post-applypatch) where git looks
for them (core.hooksPath and worktrees respected) and backfills the project identity first.
Running it again updates the hooks. A hook you already have is kept as <hook>.pre-kitty and still
runs; with husky, kitty adds one marked line to .husky/<hook>. The first install in a repository
with history says how many earlier transitions are not queued (hooks capture what comes next;
\`kitty derive\` queues the history); nothing is queued without being asked.

Options:
  --force    install even when CI is set or core.hooksPath points at a global hooks dir
  --json     print the result as JSON (unqueued_transitions: that count, or null)
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { force: { type: 'boolean' }, json: { type: 'boolean' } }, 'kitty hooks install');
    const result = await installHooks({ cwd: io.cwd, env: io.env, force: Boolean(values.force), warn: warner(io) });
    if (values.json) {
      printJson(io, {
        skipped: result.skipped,
        hooks_dir: result.hooksDir,
        husky: result.husky,
        hooks: result.hooks,
        notes: result.notes,
        unqueued_transitions: result.unqueued,
      });
      return 0;
    }
    if (result.skipped) {
      io.stdout.write(`kitty: ${result.skipped}\n`);
      return 0;
    }
    for (const hook of result.hooks) {
      const how = {
        installed: 'installed',
        updated: 'updated',
        chained: `installed; your hook is kept as ${hook.chained} and still runs`,
        'husky-line': 'added to husky',
      }[hook.action];
      io.stdout.write(`${hook.name.padEnd(16)} ${how} (${sanitize(hook.path)})\n`);
    }
    for (const note of result.notes) io.stderr.write(`kitty: note: ${sanitize(note)}\n`);
    io.stdout.write('kitty: hooks installed; lane changes you commit are now captured (KITTY=0 postpones capture to the next hook run)\n');
    if (result.unqueued) {
      io.stdout.write(
        `kitty: ${result.unqueued} earlier transition${result.unqueued === 1 ? ' is' : 's are'} in this repository's history and not queued; \`kitty derive --dry-run\` lists them, \`kitty derive\` queues them\n`,
      );
    }
    return 0;
  },
};

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ErrorCode, KittyError } from '../../errors/index.js';
import { repoInfo } from '../../git/repo.js';
import { runGit } from '../../git/run.js';
import { isKnownLane, knownLanes } from '../../workpackage/lanes.js';
import { moveWorkPackageText } from '../../workpackage/move.js';
import { readWorkTree } from '../../workpackage/tree.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { printJson, warner, type Io } from '../output.js';

export const command: Command = {
  help: `Usage: kitty wp move WPxx LANE [--feature SLUG] [--note TEXT] [--no-commit] [--json]

Moves a work package to LANE: sets \`lane\` and appends a \`history\` entry (timestamp, lane, agent =
your git user name, action = the note) in its frontmatter, keeping every other byte, then commits
that file alone. kitty's hooks capture the move: exactly one WPStatusChanged event.
In the legacy layout (tasks/<lane>/WPxx.md) the file moves to the new lane's folder.

Options:
  --feature SLUG  the feature, when the WP id exists in several
  --note TEXT     recorded as the history entry's action
  --no-commit     edit the file only; commit it yourself
  --json          print {feature, wp_id, from_lane, to_lane, path, commit} as JSON
  -h, --help      show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals } = parse(
      argv,
      { feature: { type: 'string' }, note: { type: 'string' }, 'no-commit': { type: 'boolean' }, json: { type: 'boolean' } },
      'kitty wp move',
      true,
    );
    const [wpId, lane] = positionals;
    if (!wpId || !lane || positionals.length > 2) {
      throw new KittyError(ErrorCode.USAGE, 'kitty wp move: give a WP id and a lane', { hint: 'e.g. `kitty wp move WP01 doing`' });
    }
    if (!isKnownLane(lane)) {
      throw new KittyError(ErrorCode.UNKNOWN_LANE, `unknown lane "${lane}"`, { hint: `use one of: ${knownLanes().join(', ')}` });
    }
    const repo = await repoInfo(process.cwd(), io.env);
    const all = readWorkTree(repo.root, warner(io));
    const matches = all.filter((wp) => wp.wpId === wpId.toUpperCase() && (!values.feature || wp.feature === values.feature));
    if (matches.length === 0) {
      const known = [...new Set(all.filter((wp) => !values.feature || wp.feature === values.feature).map((wp) => `${wp.feature}/${wp.wpId}`))];
      throw new KittyError(ErrorCode.USAGE, `no work package ${wpId}${values.feature ? ` in feature ${values.feature}` : ''}`, {
        hint: known.length ? `work packages here: ${known.join(', ')}` : 'there are no work packages in kitty-specs/<feature>/tasks/',
      });
    }
    if (matches.length > 1) {
      throw new KittyError(ErrorCode.USAGE, `${wpId} exists in several features: ${matches.map((wp) => wp.feature).join(', ')}`, {
        hint: `pick one with --feature, e.g. \`kitty wp move ${wpId} ${lane} --feature ${matches[0]!.feature}\``,
      });
    }
    const target = matches[0]!;
    if (target.lane === lane) {
      io.stdout.write(`kitty: ${target.feature}/${target.wpId} is already in ${lane}; nothing to do\n`);
      return 0;
    }
    const dirty = await runGit(['status', '--porcelain', '--', target.path], { cwd: repo.root, env: io.env });
    if (dirty.stdout.trim()) {
      throw new KittyError(ErrorCode.WP_DIRTY, `${target.path} has uncommitted changes`, {
        hint: `commit or stash them first (\`git add ${target.path} && git commit\`, or \`git stash\`)`,
      });
    }
    const agent = (await runGit(['config', 'user.name'], { cwd: repo.root, env: io.env, okCodes: [1] })).stdout.trim() || 'unknown';
    const timestamp = new Date().toISOString().replace('.000Z', 'Z');
    const text = readFileSync(join(repo.root, target.path), 'utf8');
    const edited = moveWorkPackageText(text, lane, { timestamp, lane, agent, ...(values.note ? { action: values.note } : {}) });
    let path = target.path;
    const legacy = /^(kitty-specs\/[^/]+\/tasks\/)[^/]+\/([^/]+)$/.exec(target.path);
    if (legacy) {
      path = `${legacy[1]}${lane}/${legacy[2]}`;
      mkdirSync(dirname(join(repo.root, path)), { recursive: true });
      renameSync(join(repo.root, target.path), join(repo.root, path));
    }
    writeFileSync(join(repo.root, path), edited);
    let commit: string | null = null;
    if (!values['no-commit']) {
      const paths = legacy ? [target.path, path] : [path];
      await runGit(['add', '-A', '--', ...paths], { cwd: repo.root, env: io.env });
      const message = `${target.wpId}: ${target.lane ?? 'no lane'} → ${lane}${values.note ? `\n\n${values.note}` : ''}`;
      await runGit(['commit', '-q', '-m', message, '--', ...paths], { cwd: repo.root, env: io.env });
      commit = (await runGit(['rev-parse', 'HEAD'], { cwd: repo.root, env: io.env })).stdout.trim();
    }
    const result = { feature: target.feature, wp_id: target.wpId, from_lane: target.lane, to_lane: lane, path, commit };
    if (values.json) printJson(io, result);
    else io.stdout.write(`kitty: ${target.feature}/${target.wpId} ${target.lane ?? '∅'} → ${lane}${commit ? ` (committed ${commit.slice(0, 7)})` : ' (not committed)'}\n`);
    return 0;
  },
};

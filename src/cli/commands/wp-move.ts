import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ulid } from 'ulid';
import { ErrorCode, KittyError } from '../../errors/index.js';
import { repoInfo } from '../../git/repo.js';
import { runGit } from '../../git/run.js';
import { readConfig } from '../../identity/config-file.js';
import { gitCommit } from '../../workpackage/commit.js';
import { closestLane, knownLanes, laneFromInput, sameLane } from '../../workpackage/lanes.js';
import { moveWorkPackageText } from '../../workpackage/move.js';
import { DEFAULT_MOVE_MESSAGE, moveMessage } from '../../workpackage/move-message.js';
import { appendMove } from '../../workpackage/status-append.js';
import { type LaneSource, readWorkTree, type TreeWorkPackage } from '../../workpackage/tree.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, sanitize, warner } from '../output.js';

interface Move {
  repo: string;
  io: Io;
  target: TreeWorkPackage;
  lane: string;
  note: string | null;
  commit: boolean;
  /** -m, else `wp_move.message` in the config, else DEFAULT_MOVE_MESSAGE; placeholders filled at commit. */
  message: string;
}

/** What a move wrote: the paths to commit (a legacy move removes one and adds another) and the one to report. */
interface Written {
  paths: string[];
  path: string;
  source: LaneSource;
  /** Each path's text before the move (null: it did not exist), to put back when git refuses the commit. */
  before: Map<string, string | null>;
}

function git(move: Move, args: string[], okCodes?: number[]) {
  return runGit(args, { cwd: move.repo, env: move.io.env, okCodes });
}

/** The lane to move to, as typed (`Done`, `for-review`); `genesis` is where a WP comes from, never where it goes. */
function laneToMove(input: string): string {
  const lane = laneFromInput(input);
  if (lane) return lane;
  throw new KittyError(ErrorCode.UNKNOWN_LANE, `unknown lane "${input}"`, {
    hint: `did you mean \`${closestLane(input)}\`? Lanes: ${knownLanes().join(', ')}`,
  });
}

function findTarget(all: TreeWorkPackage[], wpId: string, lane: string, feature: string | undefined): TreeWorkPackage {
  const matches = all.filter((wp) => wp.wpId === wpId.toUpperCase() && (!feature || wp.feature === feature));
  if (matches.length === 0) {
    const known = [...new Set(all.filter((wp) => !feature || wp.feature === feature).map((wp) => `${wp.feature}/${wp.wpId}`))];
    throw new KittyError(ErrorCode.USAGE, `no work package ${wpId}${feature ? ` in feature ${feature}` : ''}`, {
      hint: known.length ? `work packages here: ${known.join(', ')}` : 'there are no work packages in kitty-specs/<feature>/tasks/',
    });
  }
  if (matches.length > 1) {
    throw new KittyError(ErrorCode.USAGE, `${wpId} exists in several features: ${matches.map((wp) => wp.feature).join(', ')}`, {
      hint: `pick one with --feature, e.g. \`kitty wp move ${wpId} ${lane} --feature ${matches[0]!.feature}\``,
    });
  }
  return matches[0]!;
}

/** The move commits the file whole: uncommitted edits in it would go into the move's commit. */
async function ensureClean(move: Move, path: string): Promise<void> {
  const dirty = await git(move, ['status', '--porcelain', '--', path]);
  if (!dirty.stdout.trim()) return;
  throw new KittyError(ErrorCode.WP_DIRTY, `${path} has uncommitted changes`, {
    hint: `commit or stash them first (\`git add ${path} && git commit\`, or \`git stash\`)`,
  });
}

async function gitUser(move: Move): Promise<{ name: string; email: string | null }> {
  const name = (await git(move, ['config', 'user.name'], [1])).stdout.trim() || 'unknown';
  const email = (await git(move, ['config', 'user.email'], [1])).stdout.trim() || null;
  return { name, email };
}

async function moveInFrontmatter(move: Move): Promise<Written> {
  const { target, lane, repo } = move;
  await ensureClean(move, target.path);
  const agent = (await gitUser(move)).name;
  const timestamp = new Date().toISOString().replace('.000Z', 'Z');
  const text = readFileSync(join(repo, target.path), 'utf8');
  const edited = moveWorkPackageText(text, lane, { timestamp, lane, agent, ...(move.note ? { action: move.note } : {}) });
  let path = target.path;
  const legacy = /^(kitty-specs\/[^/]+\/tasks\/)[^/]+\/([^/]+)$/.exec(target.path);
  if (legacy) {
    path = `${legacy[1]}${lane}/${legacy[2]}`;
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    renameSync(join(repo, target.path), join(repo, path));
  }
  writeFileSync(join(repo, path), edited);
  const before = new Map<string, string | null>([[target.path, text]]);
  if (legacy) before.set(path, null);
  return { paths: legacy ? [target.path, path] : [path], path, source: 'frontmatter', before };
}

/**
 * Newer tools read a feature's lanes from its status log only, so a move there is one more line
 * of it, shaped like the lines those tools write; the stale frontmatter is left alone.
 */
async function moveInLog(move: Move, log: string): Promise<Written> {
  const { target, lane } = move;
  await ensureClean(move, log);
  const full = join(move.repo, log);
  const now = new Date();
  const text = readFileSync(full, 'utf8');
  const { addition, noteKept } = appendMove(text, {
    eventId: ulid(now.getTime()),
    wpId: target.wpId,
    fromLane: target.lane,
    toLane: lane,
    now,
    actor: await gitUser(move),
    note: move.note,
    feature: target.feature,
  });
  if (!noteKept) move.io.stderr.write(`${sanitize(`kitty: warning: the lines of ${log} have no field for a note; it is only in the commit message`)}\n`);
  appendFileSync(full, addition);
  return { paths: [log], path: log, source: 'status-log', before: new Map([[log, text]]) };
}

/** The tree as it was before the move: nothing staged, every file's bytes back. */
async function undo(move: Move, written: Written): Promise<void> {
  await git(move, ['reset', '-q', '--', ...written.paths]);
  for (const [path, text] of written.before) {
    if (text === null) rmSync(join(move.repo, path), { force: true });
    else {
      mkdirSync(dirname(join(move.repo, path)), { recursive: true });
      writeFileSync(join(move.repo, path), text);
    }
  }
}

async function commitMove(move: Move, written: Written): Promise<string> {
  const { target, lane, note } = move;
  await git(move, ['add', '-A', '--', ...written.paths]);
  const message = moveMessage(move.message, { wp: target.wpId, from: target.lane, to: lane, feature: target.feature, note });
  const result = await gitCommit(move.repo, move.io.env, message, written.paths);
  if (result.code !== 0) {
    await undo(move, written);
    if (result.stderr) move.io.stderr.write(`${result.stderr.split('\n').map(sanitize).join('\n').trimEnd()}\n`);
    throw new KittyError(
      ErrorCode.GIT_FAILED,
      `git refused the commit of ${target.feature}/${target.wpId} → ${lane} (exit ${result.code}); ${written.path} is back as it was, nothing moved`,
      {
        hint: 'deal with what git said above (a commit-msg or pre-commit hook?), then run `kitty wp move` again; `--no-commit` only edits the file',
      },
    );
  }
  return (await git(move, ['rev-parse', 'HEAD'])).stdout.trim();
}

/** -m wins; else the project's `wp_move.message`; else the default. */
function messageTemplate(root: string, flag: string | undefined): string {
  if (flag) return flag;
  try {
    const read = readConfig(join(root, '.kittify', 'config.yaml'));
    const configured = read.kind === 'ok' ? read.get(['wp_move', 'message']) : null;
    return typeof configured === 'string' && configured.trim() ? configured : DEFAULT_MOVE_MESSAGE;
  } catch {
    return DEFAULT_MOVE_MESSAGE;
  }
}

/** A lane only the working tree has (an earlier move not committed) is no reason to say "nothing to do". */
async function ensureCommitted(move: Move): Promise<void> {
  const path = move.target.statusLog ?? move.target.path;
  const dirty = await git(move, ['status', '--porcelain', '--', path]);
  if (!dirty.stdout.trim()) return;
  throw new KittyError(
    ErrorCode.WP_DIRTY,
    `${move.target.feature}/${move.target.wpId} is in ${move.target.lane} only in the working tree: ${path} has uncommitted changes`,
    {
      hint: `commit them (\`git add ${path} && git commit\`) or drop them (\`git checkout -- ${path}\`), then rerun`,
    },
  );
}

function alreadyThere(move: Move): boolean {
  const { target, lane } = move;
  // in a log, `doing` and `in_progress` are one lane: a line between them would be no move
  return target.statusLog ? sameLane(target.lane, lane) : target.lane === lane;
}

export const command: Command = {
  help: `Usage: kitty wp move WPxx LANE [--feature SLUG] [--note TEXT] [-m MESSAGE] [--no-commit] [--json]

Moves a work package to LANE and commits that change alone; kitty's hooks capture the move:
exactly one WPStatusChanged event.
In a feature with a status.events.jsonl, the move is one line appended to that log, shaped like
its last transition line (new event_id, time, actor = your git user name, the note where those
lines keep one); the WP file is not touched. Otherwise the WP file's frontmatter gets the new
\`lane\` and a \`history\` entry (timestamp, lane, agent = your git user name, action = the note),
every other byte kept; in the legacy layout (tasks/<lane>/WPxx.md) the file moves to the new
lane's folder.

The commit message is -m, else \`wp_move.message\` in .kittify/config.yaml, else "{wp}: {from} → {to}";
{wp} {from} {to} {feature} and {note} are filled in, and a note the message does not place goes
into its body. When git refuses the commit (a commit-msg or pre-commit hook), git's own message is
shown, the file is put back as it was (nothing staged) and the exit status is 1.

Options:
  --feature SLUG   the feature, when the WP id exists in several
  --note TEXT      recorded with the move (and in the commit message)
  -m, --message M  the commit message (placeholders as above)
  --no-commit      edit the file only; commit it yourself
  --json           print {feature, wp_id, from_lane, to_lane, path, commit, source} as JSON
  -h, --help       show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals } = parse(
      argv,
      {
        feature: { type: 'string' },
        note: { type: 'string' },
        message: { type: 'string', short: 'm' },
        'no-commit': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      'kitty wp move',
      true,
    );
    const [wpId, typed] = positionals;
    if (!wpId || !typed || positionals.length > 2) {
      throw new KittyError(ErrorCode.USAGE, 'kitty wp move: give a WP id and a lane', { hint: 'e.g. `kitty wp move WP01 doing`' });
    }
    const lane = laneToMove(typed);
    const repo = await repoInfo(io.cwd, io.env);
    const target = findTarget(readWorkTree(repo.root, warner(io)), wpId, lane, values.feature);
    const move: Move = {
      repo: repo.root,
      io,
      target,
      lane,
      note: values.note || null,
      commit: !values['no-commit'],
      message: messageTemplate(repo.root, values.message),
    };
    if (alreadyThere(move)) {
      if (move.commit) await ensureCommitted(move);
      io.stdout.write(`${sanitize(`kitty: ${target.feature}/${target.wpId} is already in ${target.lane}; nothing to do`)}\n`);
      return 0;
    }
    const written = target.statusLog ? await moveInLog(move, target.statusLog) : await moveInFrontmatter(move);
    const commit = move.commit ? await commitMove(move, written) : null;
    const result = { feature: target.feature, wp_id: target.wpId, from_lane: target.lane, to_lane: lane, path: written.path, commit, source: written.source };
    if (values.json) printJson(io, result);
    else
      io.stdout.write(
        `${sanitize(`kitty: ${target.feature}/${target.wpId} ${target.lane ?? '∅'} → ${lane}${written.source === 'status-log' ? ` in ${written.path}` : ''}${commit ? ` (committed ${commit.slice(0, 7)})` : ' (not committed)'}`)}\n`,
      );
    return 0;
  },
};

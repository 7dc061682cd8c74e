import { SPECS_DIR } from '../constants.js';
import { ErrorCode, KittyError } from '../errors/index.js';
import { CatFileBatch } from '../git/cat-file.js';
import { streamLog, type LogCommit, type PathChange } from '../git/log.js';
import { parseWorkPackage, type WorkPackageState } from '../workpackage/frontmatter.js';
import { isKnownLane } from '../workpackage/lanes.js';
import { classifyPath } from '../workpackage/paths.js';
import { addedLines, parseStatusLines, splitLines } from '../workpackage/status-log.js';
import { normalizeTime } from '../workpackage/time.js';
import { deriveWpTransitions, statusLogTransitions, type CommitFacts, type Transition } from './transitions.js';

export interface DerivedCommit {
  commit: LogCommit;
  /** Author date in ISO 8601 UTC. */
  authorDate: string;
  transitions: Transition[];
}

export interface WalkOptions {
  /** Work-tree root (git runs here; pathspecs are from the top). */
  root: string;
  env?: NodeJS.ProcessEnv;
  revisions: readonly string[];
  /** Unknown lanes and malformed files become errors instead of warnings. */
  strict?: boolean;
  warn: (line: string) => void;
}

/** Commits whose blobs are requested together: enough to keep `cat-file --batch` busy. */
const PREFETCH = 256;
const CACHE_LIMIT = 4096;

const PATHSPECS = [`:(top)${SPECS_DIR}`];

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  cache.set(key, value);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
}

/**
 * Streams the commits of a range and the transitions each one made, reading every blob through one
 * `git cat-file --batch`. A malformed file or line is reported (file@commit:line) and skipped; it
 * never aborts the walk unless `strict`.
 */
export async function* deriveCommits(options: WalkOptions): AsyncGenerator<DerivedCommit> {
  const blobs = new CatFileBatch(options.root, options.env);
  // the blob a commit leaves is the one the next commit of that WP starts from: read and parse it once
  const texts = new Map<string, Promise<string | null>>();
  const states = new Map<string, WorkPackageState>();
  const warned = new Set<string>();

  const warnOnce = (line: string): void => {
    if (warned.has(line)) return;
    warned.add(line);
    options.warn(line);
  };

  const read = (sha: string | null | undefined): Promise<string | null> => {
    if (!sha) return Promise.resolve(null);
    let text = texts.get(sha);
    if (!text) {
      text = blobs.read(sha).then((buffer) => (buffer ? buffer.toString('utf8') : null));
      remember(texts, sha, text);
    }
    return text;
  };

  const wpState = async (sha: string | null | undefined, label: string, folderLane: string | null): Promise<WorkPackageState | null> => {
    const text = await read(sha);
    if (text === null) {
      if (sha) {
        const error = new KittyError(ErrorCode.WP_UNREADABLE, `cannot read ${label}: git object ${sha} is missing`, {
          hint: 'fetch the missing history (`git fetch --unshallow`, or `git fsck` to find damage), then rerun',
        });
        if (options.strict) throw error;
        warnOnce(`kitty: warning: ${error.code}: ${error.message} (skipped)`);
      }
      return null;
    }
    try {
      let state = states.get(sha!);
      if (!state) {
        state = parseWorkPackage(text, label);
        remember(states, sha!, state);
      }
      return folderLane ? { ...state, lane: folderLane } : state;
    } catch (error) {
      if (options.strict || !(error instanceof KittyError)) throw error;
      warnOnce(`kitty: warning: ${error.code}: ${error.message} (skipped)`);
      return null;
    }
  };

  const checkLanes = (transitions: readonly Transition[], path: string, short: string): void => {
    for (const transition of transitions) {
      for (const lane of [transition.fromLane, transition.toLane]) {
        if (lane === null || isKnownLane(lane)) continue;
        if (options.strict) {
          throw new KittyError(ErrorCode.UNKNOWN_LANE, `unknown lane "${lane}" in ${path}@${short}`, {
            hint: 'use a lane of the 4-lane or 9-lane vocabulary, or run without --strict to pass it through',
          });
        }
        warnOnce(`kitty: warning: unknown lane "${lane}" in ${path} (passed through)`);
      }
    }
  };

  const deriveCommit = async (commit: LogCommit): Promise<DerivedCommit> => {
    const authorDate = normalizeTime(commit.authorDate) ?? commit.authorDate;
    const facts: CommitFacts = { authorDate, authorName: commit.authorName };
    const short = commit.sha.slice(0, 7);
    const wpGroups = new Map<string, { feature: string; wpId: string; changes: { change: PathChange; folderLane: string | null }[] }>();
    const logs: { feature: string; change: PathChange }[] = [];
    for (const change of commit.changes) {
      const spec = classifyPath(change.path);
      if (!spec) continue;
      if (spec.kind === 'status-log') {
        logs.push({ feature: spec.feature, change });
        continue;
      }
      const key = `${spec.feature}/${spec.wpId}`;
      const group = wpGroups.get(key) ?? { feature: spec.feature, wpId: spec.wpId, changes: [] };
      group.changes.push({ change, folderLane: spec.folderLane });
      wpGroups.set(key, group);
    }

    const fromLogs: Transition[] = [];
    for (const { feature, change } of logs) {
      const after = await read(change.after);
      if (after === null) continue;
      const [first, ...others] = await Promise.all(change.before.map((sha) => read(sha)));
      const added = addedLines(first ?? null, after);
      let lines = added.lines;
      if (others.length > 0) {
        const inParents = new Set(others.flatMap((text) => (text ? splitLines(text) : [])));
        lines = lines.filter((line) => !inParents.has(line));
      }
      const parsed = parseStatusLines(lines, added.firstLineNumber);
      for (const problem of parsed.problems) {
        const message = `${change.path}@${short}:${problem.line}: ${problem.message}`;
        if (options.strict) {
          throw new KittyError(ErrorCode.WP_MALFORMED, `malformed status line ${message}`, {
            hint: `fix or remove that line of ${change.path}, then rerun`,
          });
        }
        warnOnce(`kitty: warning: skipped ${message}`);
      }
      const derived = statusLogTransitions(feature, parsed.transitions, facts);
      checkLanes(derived, change.path, short);
      fromLogs.push(...derived);
    }
    const coveredByLog = new Set(fromLogs.map((t) => `${t.featureSlug}/${t.wpId}`));

    const transitions: Transition[] = [];
    for (const [key, group] of wpGroups) {
      // a status log that recorded this WP's move in the same commit is the one source for it
      if (coveredByLog.has(key)) continue;
      const parents = Math.max(1, commit.parents.length);
      const states = async (pick: (change: PathChange) => string | null | undefined): Promise<WorkPackageState | null> => {
        for (const { change, folderLane } of group.changes) {
          const state = await wpState(pick(change), `${change.path}@${short}`, folderLane);
          if (state) return state;
        }
        return null;
      };
      const after = await states((change) => change.after);
      const before = await states((change) => change.before[0]);
      const otherParents: (WorkPackageState | null)[] = [];
      for (let i = 1; i < parents; i++) otherParents.push(await states((change) => change.before[i]));
      const derived = deriveWpTransitions({ featureSlug: group.feature, wpId: group.wpId, before, otherParents, after }, facts);
      checkLanes(derived, group.changes.at(-1)!.change.path, short);
      transitions.push(...derived);
    }
    transitions.push(...fromLogs);

    return { commit, authorDate, transitions };
  };

  try {
    let chunk: Promise<DerivedCommit>[] = [];
    for await (const commit of streamLog(options.revisions, PATHSPECS, { cwd: options.root, env: options.env })) {
      const derived = deriveCommit(commit);
      // a failure surfaces when its turn comes; until then it must not count as unhandled
      derived.catch(() => undefined);
      chunk.push(derived);
      if (chunk.length >= PREFETCH) {
        for (const derived of chunk) yield await derived;
        chunk = [];
      }
    }
    for (const derived of chunk) yield await derived;
  } finally {
    await blobs.close();
  }
}

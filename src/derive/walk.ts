import { SPECS_DIR, STATUS_LOG_NAME } from '../constants.js';
import { ErrorCode, KittyError } from '../errors/index.js';
import { type LogCommit, type PathChange, streamLog } from '../git/log.js';
import { objectStoreKib } from '../git/repo.js';
import type { HistoryEntry, WorkPackageState } from '../workpackage/frontmatter.js';
import { isKnownLane } from '../workpackage/lanes.js';
import { classifyPath } from '../workpackage/paths.js';
import type { StatusTransition } from '../workpackage/status-log.js';
import { normalizeTime } from '../workpackage/time.js';
import { BlobReader } from './blobs.js';
import { deriveWpTransitions, newEntries, type Transition, type WpChange } from './transitions.js';

/** A WP a commit changed: its states, and what decides whether the change can be a move. */
export interface WpCandidate extends WpChange {
  path: string;
  /** No file of this WP existed in the first parent (created, or copied/re-added). */
  appeared: boolean;
  /** History entries no parent had (`newEntries`): the moves below and the entries to remember. */
  added: HistoryEntry[];
  /** What the change shows as moves, before the exactly-once rules (`deriveWpTransitions`). */
  moves: Transition[];
}

/** Transition lines a commit added to a feature's status log. */
interface LogCandidate {
  feature: string;
  path: string;
  lines: StatusTransition[];
  /** Lines left out because they replaced a removed line saying the same move (re-keyed). */
  restated: number;
}

export interface DerivedCommit {
  commit: LogCommit;
  /** Author date in ISO 8601 UTC. */
  authorDate: string;
  /** WPs whose files decide their moves: a WP its feature's status log tracks is left out (the log is canonical). */
  wps: WpCandidate[];
  logs: LogCandidate[];
  /** Features whose every path this commit deleted, paired with one whose every path it added. */
  renames: { from: string; to: string }[];
}

interface WalkOptions {
  /** Work-tree root (git runs here; pathspecs are from the top). */
  root: string;
  env: NodeJS.ProcessEnv;
  revisions: readonly string[];
  /** Unknown lanes and malformed files become errors instead of warnings. */
  strict?: boolean;
  /**
   * Read git's output in a worker thread: it pays when git has hundreds of MB of blob versions to
   * hand over, and costs ~6% on a small store. 'auto' decides by the size of the object store.
   */
  threaded?: boolean | 'auto';
  /**
   * The range holds every ancestor of its commits (no `A..B`, `^A` or `--no-walk`): what the walk
   * has not seen cannot be in a parent's tree, which saves looking there.
   */
  complete?: boolean;
  warn: (line: string) => void;
}

/** An object store this large (packs and loose objects) is worth a worker thread for its output. */
const THREADED_FROM_KIB = 16 * 1024;

/** Commits whose blobs are requested together: enough to keep `cat-file --batch` busy. */
const PREFETCH = 256;

const PATHSPECS = [`:(top)${SPECS_DIR}`];

type Group = { feature: string; wpId: string; changes: { change: PathChange; folderLane: string | null }[]; seenBefore: boolean };

/** In a complete walk: the WPs and status logs the commits walked so far have touched. */
interface Seen {
  wps: Set<string>;
  logs: Set<string>;
}

/**
 * Streams the commits of a range with what each one shows: WP states before and after, status
 * lines added, feature folders renamed. Blobs are read through one `git cat-file --batch`, many
 * commits ahead. A malformed file or line is reported (file@commit:line) and skipped; it never
 * aborts the walk unless `strict`. Deciding which of these are new transitions is `resolveCommit`'s.
 */
export async function* deriveCommits(options: WalkOptions): AsyncGenerator<DerivedCommit> {
  const commits = streamLog(options.revisions, PATHSPECS, { cwd: options.root, env: options.env });
  // git log starts while the store is measured
  const first = commits.next();
  first.catch(() => undefined);
  let reader: BlobReader | null = null;
  try {
    const threaded = options.threaded === 'auto' ? (await objectStoreKib(options.root, options.env)) >= THREADED_FROM_KIB : Boolean(options.threaded);
    reader = new BlobReader({ ...options, threaded });
    const seen: Seen | null = options.complete ? { wps: new Set(), logs: new Set() } : null;
    // a sliding window: git keeps reading ahead while earlier commits are handed out
    const window: Promise<DerivedCommit>[] = [];
    for (let step = await first; !step.done; step = await commits.next()) {
      const derived = readCommit(step.value, reader, options, seen);
      // a failure surfaces when its turn comes; until then it must not count as unhandled
      derived.catch(() => undefined);
      window.push(derived);
      if (window.length >= PREFETCH) yield await window.shift()!;
    }
    while (window.length > 0) yield await window.shift()!;
  } finally {
    await commits.return(undefined);
    await reader?.close();
  }
}

async function readCommit(commit: LogCommit, reader: BlobReader, options: WalkOptions, seen: Seen | null): Promise<DerivedCommit> {
  const authorDate = normalizeTime(commit.authorDate) ?? commit.authorDate;
  const renames = renamedFeatures(commit);
  const { groups, logChanges, logKnown } = groupChanges(commit, renames, reader, seen);
  const logs = await readLogs(commit, logChanges, reader, options);
  const wps: WpCandidate[] = [];
  for (const group of groups.values()) {
    const tracked = (): Promise<boolean> => logTracks(group, commit, logs, reader, logKnown.has(group.feature));
    // a tracked WP's file only mirrors the log: nothing in it can be a move. A complete walk knows
    // which features have a log, so such a file is not even parsed; a hook's few commits do not,
    // and ask (a tree read) only of a change that shows a move
    if (seen && (await tracked())) continue;
    const candidate = await readWp(group, commit, reader, options);
    candidate.added = candidate.after ? newEntries(candidate.after, [candidate.before, ...candidate.otherParents]) : [];
    candidate.moves = deriveWpTransitions(candidate, { authorDate, authorName: commit.authorName }, candidate.added);
    if (!seen && candidate.moves.length > 0 && (await tracked())) continue;
    wps.push(candidate);
  }
  return { commit, authorDate, wps, logs: logs.map(({ tracked: _tracked, ...log }) => log), renames };
}

/**
 * The commit's WP paths grouped by WP, and its status logs by feature; a renamed feature's files
 * are read as moved (the old file is where the new one comes from). Runs synchronously, for each
 * commit in walk order, before any commit waits: so `seen` holds exactly what earlier commits touched.
 */
function groupChanges(commit: LogCommit, renames: readonly { from: string; to: string }[], reader: BlobReader, seen: Seen | null) {
  const short = commit.sha.slice(0, 7);
  const renamedTo = new Map(renames.map(({ from, to }) => [from, to]));
  const groups = new Map<string, Group>();
  const logChanges = new Map<string, PathChange[]>();
  for (const change of commit.changes) {
    const spec = classifyPath(change.path);
    if (!spec) continue;
    const feature = renamedTo.get(spec.feature) ?? spec.feature;
    if (spec.kind === 'status-log') {
      logChanges.set(feature, [...(logChanges.get(feature) ?? []), change]);
      continue;
    }
    reader.prefetch([change.after, ...change.before], `${change.path}@${short}`);
    const key = `${feature}/${spec.wpId}`;
    const group = groups.get(key) ?? { feature, wpId: spec.wpId, changes: [], seenBefore: seen?.wps.has(key) ?? true };
    group.changes.push({ change, folderLane: spec.folderLane });
    groups.set(key, group);
  }
  const logKnown = new Set([...groups.values()].map((group) => group.feature).filter((feature) => seen?.logs.has(feature) ?? true));
  for (const key of groups.keys()) seen?.wps.add(key);
  for (const feature of logChanges.keys()) seen?.logs.add(feature);
  return { groups, logChanges, logKnown };
}

async function readLogs(
  commit: LogCommit,
  logChanges: ReadonlyMap<string, PathChange[]>,
  reader: BlobReader,
  options: WalkOptions,
): Promise<(LogCandidate & { tracked: ReadonlySet<string> })[]> {
  const short = commit.sha.slice(0, 7);
  const logs: (LogCandidate & { tracked: ReadonlySet<string> })[] = [];
  for (const [feature, changes] of logChanges) {
    const change = changes.find((candidate) => candidate.after !== null);
    if (!change) continue;
    // a log moved with its renamed feature starts from the old one
    const before = change.before[0] ?? changes.find((candidate) => candidate.after === null)?.before[0] ?? null;
    const addition = await reader.logAddition(change.after!, before, change.before.slice(1), `${change.path}@${short}`);
    if (!addition) continue;
    for (const problem of addition.parse.problems) reportLine(reader, options, change.path, short, problem);
    checkLanes(
      reader,
      options,
      addition.parse.transitions.flatMap((line) => [line.fromLane, line.toLane]),
      change.path,
      short,
    );
    logs.push({ feature, path: change.path, lines: addition.parse.transitions, restated: addition.restated, tracked: addition.tracked });
  }
  return logs;
}

async function readWp(group: Group, commit: LogCommit, reader: BlobReader, options: WalkOptions): Promise<WpCandidate> {
  const short = commit.sha.slice(0, 7);
  const state = async (pick: (change: PathChange) => string | null | undefined): Promise<WorkPackageState | null> => {
    for (const { change, folderLane } of group.changes) {
      const found = await reader.wpState(pick(change), `${change.path}@${short}`);
      if (found) return folderLane ? { ...found, lane: folderLane } : found;
    }
    return null;
  };
  const after = await state((change) => change.after);
  const before = await state((change) => change.before[0]);
  const otherParents: (WorkPackageState | null)[] = [];
  for (let i = 1; i < commit.parents.length; i++) otherParents.push(await state((change) => change.before[i]));
  const path = group.changes.at(-1)!.change.path;
  const appeared = after !== null && group.changes.every(({ change }) => !change.before[0]);
  const parent = commit.parents[0];
  const copiedFrom = appeared && parent && group.seenBefore ? await stateInTree(reader, parent, group, short) : null;
  const candidate: WpCandidate = {
    featureSlug: group.feature,
    wpId: group.wpId,
    before: before ?? copiedFrom,
    otherParents,
    after,
    path,
    appeared,
    added: [],
    moves: [],
  };
  const lanes = [after?.lane ?? null, ...(after?.history ?? []).map((entry) => entry.lane)];
  checkLanes(reader, options, lanes, path, short);
  return candidate;
}

/**
 * The WP as the parent commit had it in another file, when this commit adds a file of a WP that
 * already exists (a copy into another lane folder, as real projects do): the move starts there.
 * Of several copies, the one with the longest history.
 */
async function stateInTree(reader: BlobReader, parent: string, group: Group, short: string): Promise<WorkPackageState | null> {
  const tasks = `${SPECS_DIR}/${group.feature}/tasks`;
  const files: { path: string; sha: string }[] = [];
  for (const entry of await reader.tree(`${parent}:${tasks}`)) {
    if (!entry.isTree) files.push({ path: `${tasks}/${entry.name}`, sha: entry.sha });
    else for (const inner of await reader.tree(entry.sha)) if (!inner.isTree) files.push({ path: `${tasks}/${entry.name}/${inner.name}`, sha: inner.sha });
  }
  let best: WorkPackageState | null = null;
  for (const file of files) {
    const spec = classifyPath(file.path);
    if (spec?.kind !== 'wp' || spec.wpId !== group.wpId) continue;
    const state = await reader.wpState(file.sha, `${file.path}@${short}^`, true);
    if (state && (!best || state.history.length > best.history.length)) best = spec.folderLane ? { ...state, lane: spec.folderLane } : state;
  }
  return best;
}

/**
 * Whether the feature's status log, as this commit leaves it, records moves of the WP. The log's
 * blob is found through the feature's tree (a few hundred bytes), so a log read before in the
 * walk is not read again.
 */
async function logTracks(
  group: Group,
  commit: LogCommit,
  logs: readonly { feature: string; tracked: ReadonlySet<string> }[],
  reader: BlobReader,
  mayHaveLog: boolean,
): Promise<boolean> {
  const changed = logs.find((log) => log.feature === group.feature);
  if (changed) return changed.tracked.has(group.wpId);
  if (!mayHaveLog) return false;
  const folder = `${SPECS_DIR}/${group.feature}`;
  const log = (await reader.tree(`${commit.sha}:${folder}`)).find((entry) => entry.name === STATUS_LOG_NAME && !entry.isTree);
  if (!log) return false;
  const tracked = await reader.trackedBy(log.sha, `${folder}/${STATUS_LOG_NAME}@${commit.sha.slice(0, 7)}`);
  return tracked?.has(group.wpId) ?? false;
}

/**
 * Features this commit moved wholesale: every path of one deleted and every path of another added
 * (a folder rename seen without rename detection), with at least one file carried over byte for
 * byte, paired by the most WP ids in common.
 */
function renamedFeatures(commit: LogCommit): { from: string; to: string }[] {
  // a rename deletes every path of a feature: a commit that deletes nothing renamed none
  if (!commit.changes.some((change) => change.after === null)) return [];
  const stats = new Map<string, { added: boolean; deleted: boolean; wps: Set<string>; blobs: Set<string> }>();
  for (const change of commit.changes) {
    const parts = change.path.split('/');
    if (parts[0] !== SPECS_DIR || parts.length < 3) continue;
    const stat = stats.get(parts[1]!) ?? { added: true, deleted: true, wps: new Set<string>(), blobs: new Set<string>() };
    stat.added &&= change.after !== null && change.before.every((sha) => sha === null);
    stat.deleted &&= change.after === null;
    const blob = change.after ?? change.before[0];
    if (blob) stat.blobs.add(blob);
    const spec = classifyPath(change.path);
    if (spec?.kind === 'wp') stat.wps.add(spec.wpId);
    stats.set(parts[1]!, stat);
  }
  const gone = [...stats].filter(([, stat]) => stat.deleted && !stat.added);
  const renames: { from: string; to: string }[] = [];
  for (const [to, stat] of stats) {
    if (!stat.added || stat.deleted) continue;
    const shared = (wps: Set<string>): number => [...wps].filter((wp) => stat.wps.has(wp)).length;
    const carried = gone.filter(([, old]) => shared(old.wps) > 0 && [...old.blobs].some((blob) => stat.blobs.has(blob)));
    const best = carried.sort((a, b) => shared(b[1].wps) - shared(a[1].wps))[0];
    if (best) renames.push({ from: best[0], to });
  }
  return renames;
}

function reportLine(reader: BlobReader, options: WalkOptions, path: string, short: string, problem: { line: number; message: string }): void {
  const message = `${path}@${short}:${problem.line}: ${problem.message}`;
  if (options.strict) {
    throw new KittyError(ErrorCode.WP_MALFORMED, `malformed status line ${message}`, { hint: `fix or remove that line of ${path}, then rerun` });
  }
  reader.warnOnce(`kitty: warning: skipped ${message}`);
}

function checkLanes(reader: BlobReader, options: WalkOptions, lanes: readonly (string | null)[], path: string, short: string): void {
  for (const lane of lanes) {
    if (lane === null || isKnownLane(lane)) continue;
    if (options.strict) {
      throw new KittyError(ErrorCode.UNKNOWN_LANE, `unknown lane "${lane}" in ${path}@${short}`, {
        hint: 'use a lane of the 4-lane or 9-lane vocabulary, or run without --strict to pass it through',
      });
    }
    reader.warnOnce(`kitty: warning: unknown lane "${lane}" in ${path} (passed through)`);
  }
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_TEAM_SLUG, MISSING_UUID_WARNING } from '../constants.js';
import { buildEnvelope, type StampContext } from '../derive/envelope.js';
import { Ledger } from '../derive/ledger.js';
import { resolveCommit } from '../derive/resolve.js';
import { reconcileRewrite } from '../derive/rewrite.js';
import type { Transition } from '../derive/transitions.js';
import { type DerivedCommit, deriveCommits } from '../derive/walk.js';
import { KittyError } from '../errors/index.js';
import type { Envelope, EnvelopeDraft } from '../events/envelope.js';
import type { LogCommit } from '../git/log.js';
import { currentBranch, hasCommits, type RepoInfo, repoInfo } from '../git/repo.js';
import type { IdentitySource } from '../identity/index.js';
import { machineNodeId } from '../identity/node-id.js';
import type { EventQueue } from '../queue/queue.js';
import { stateDir } from '../state/paths.js';

interface CaptureOptions {
  cwd: string;
  /** The repository, when the caller already knows it (saves a git call). */
  repo?: RepoInfo;
  env: NodeJS.ProcessEnv;
  /** Revisions for `git log` (a range, or tips); default: all of HEAD's history. */
  revisions?: readonly string[];
  /** Derive and return the events without touching the queue or the config. */
  dryRun?: boolean;
  strict?: boolean;
  warn: (line: string) => void;
  onProgress?: (commits: number) => void;
  /** Branch to stamp (`git.branch`); default: the current branch. */
  branch?: string | null;
  /**
   * Rewritten commits (amend, rebase, squash): new sha → the old shas it replaces. Their moves are
   * reconciled against what the old commits already queued, so a rewrite never repeats a move.
   */
  rewrites?: (commit: LogCommit) => readonly string[] | undefined;
  /** Dry run: receives the envelopes that would be queued (with prospective clock values), in order. */
  onEvent?: (event: Envelope) => void;
  /** A long walk (`kitty derive`): read blobs in a worker thread when the store is large; a hook's few commits never do. */
  threaded?: boolean | 'auto';
}

export interface CaptureSummary {
  commits: number;
  transitions: number;
  /** Newly queued (or, in a dry run, that would be). */
  queued: number;
  alreadyQueued: number;
  /** Transitions named a second way (re-keyed, seen again after a move, backfilled): not new. */
  aliases: number;
  /** Status lines whose from and to are one lane (after a WP's creation): no move. */
  sameLaneLines: number;
  identitySource: IdentitySource | null;
}

const BATCH = 500;

interface Stamp {
  context: StampContext;
  /** Why the project has no uuid (its events stay local), until the user has been told once. */
  missingUuidReason: string | null;
}

/**
 * Derives the transitions of a commit range and appends them to the queue: the single emission
 * point for WPStatusChanged events. Re-running over the same commits queues nothing new.
 */
export async function captureRange(options: CaptureOptions): Promise<CaptureSummary> {
  const summary: CaptureSummary = { commits: 0, transitions: 0, queued: 0, alreadyQueued: 0, aliases: 0, sameLaneLines: 0, identitySource: null };
  const repo = options.repo ?? (await repoInfo(options.cwd, options.env));
  if (!options.revisions?.length && !(await hasCommits(repo.root, options.env))) return summary;
  const revisions = options.revisions?.length ? options.revisions : ['HEAD'];
  const complete = !options.revisions?.length;
  const walk = deriveCommits({
    root: repo.root,
    env: options.env,
    revisions,
    strict: options.strict,
    threaded: options.threaded,
    complete,
    warn: options.warn,
  });
  // git starts reading the history while the identity is resolved
  const first = walk.next();
  first.catch(() => undefined);
  let queue: EventQueue | null = null;
  try {
    const stamp = await stampFor(options, repo, summary);
    const queuePath = join(stateDir(options.env), 'queue.db');
    // loaded while git already reads the history (the queue's SQLite binding and YAML take ~50 ms)
    const { EventQueue } = await import('../queue/queue.js');
    queue = options.dryRun && !existsSync(queuePath) ? null : EventQueue.open({ env: options.env });
    const sink = options.dryRun ? new DryRunSink(queue, stamp, summary, options) : new QueueSink(queue!, stamp, summary, options);
    for (let step = await first; !step.done; step = await walk.next()) {
      await captureCommit(step.value, { repo, stamp, sink, queue, summary, options });
    }
    sink.flush();
  } finally {
    await walk.return(undefined);
    queue?.close();
  }
  return summary;
}

interface CommitContext {
  repo: RepoInfo;
  stamp: Stamp;
  sink: QueueSink | DryRunSink;
  queue: EventQueue | null;
  summary: CaptureSummary;
  options: CaptureOptions;
}

/** One commit: its transitions by the exactly-once rules, a rewrite reconciled, the envelopes sunk. */
async function captureCommit(derived: DerivedCommit, { repo, stamp, sink, queue, summary, options }: CommitContext): Promise<void> {
  summary.commits++;
  const resolution = resolveCommit(derived, sink.ledger, stamp.context.projectUuid);
  summary.aliases += resolution.aliases;
  summary.sameLaneLines += resolution.sameLaneLines;
  let transitions = resolution.transitions;
  const olds = options.rewrites?.(derived.commit);
  if (olds?.length && !options.dryRun) {
    sink.flush();
    const facts = { authorDate: derived.authorDate, authorName: derived.commit.authorName };
    transitions = reconcileRewrite(transitions, await capturedTransitions(olds, repo, stamp.context, queue!, options), facts);
  }
  summary.transitions += transitions.length;
  for (const transition of transitions) sink.add(buildEnvelope(transition, stamp.context, { sha: derived.commit.sha, authorDate: derived.authorDate }));
  options.onProgress?.(summary.commits);
}

async function stampFor(options: CaptureOptions, repo: RepoInfo, summary: CaptureSummary): Promise<Stamp> {
  let projectUuid: string | null = null;
  let projectSlug: string | null = null;
  let nodeId: string;
  let missingUuidReason: string | null = null;
  // asked of git while the identity is read (each is a process, and the walk waits for both)
  const branch = options.branch !== undefined ? Promise.resolve(options.branch) : currentBranch(repo.root, options.env);
  branch.catch(() => undefined);
  try {
    const { resolveIdentity } = await import('../identity/index.js');
    const identity = await resolveIdentity({ cwd: repo.root, env: options.env, repo, write: !options.dryRun, strict: options.strict, warn: options.warn });
    ({ projectUuid, projectSlug, nodeId } = identity);
    summary.identitySource = identity.source;
  } catch (error) {
    if (!(error instanceof KittyError) || options.strict) throw error;
    missingUuidReason = error.message;
    nodeId = machineNodeId();
  }
  return { context: { projectUuid, projectSlug, nodeId, teamSlug: LOCAL_TEAM_SLUG, branch: await branch }, missingUuidReason };
}

/**
 * The moves of `olds` (commits a rewrite replaced) whose events are already in the queue. An old
 * commit that was itself a rewrite of another old one (amended twice) queued only the rest of its
 * way, so each old's moves are also tried reconciled against what the others captured, until
 * nothing more is found: the old commits come in no reliable order.
 */
async function capturedTransitions(
  olds: readonly string[],
  repo: RepoInfo,
  context: StampContext,
  queue: EventQueue,
  options: CaptureOptions,
): Promise<Transition[]> {
  const commits: { derived: DerivedCommit; transitions: Transition[] }[] = [];
  const walk = deriveCommits({ root: repo.root, env: options.env, revisions: ['--no-walk', ...olds], warn: options.warn });
  for await (const old of walk) commits.push({ derived: old, transitions: resolveCommit(old, new Ledger(null), context.projectUuid).transitions });
  const captured: Transition[] = [];
  const seen = new Set<string>();
  for (let found = true; found; ) {
    found = false;
    for (const { derived, transitions } of commits) {
      const facts = { authorDate: derived.authorDate, authorName: derived.commit.authorName };
      for (const transition of [...transitions, ...reconcileRewrite(transitions, captured, facts)]) {
        const { event_id } = buildEnvelope(transition, context, { sha: derived.commit.sha, authorDate: derived.authorDate });
        if (seen.has(event_id) || !queue.has(event_id)) continue;
        seen.add(event_id);
        captured.push(transition);
        found = true;
      }
    }
  }
  return captured;
}

/** Queues envelopes in batches, each batch in one transaction with the ledger decisions it rests on. */
class QueueSink {
  readonly ledger: Ledger;
  private readonly store;
  private pending: EnvelopeDraft[] = [];

  constructor(
    private readonly queue: EventQueue,
    private readonly stamp: Stamp,
    private readonly summary: CaptureSummary,
    private readonly options: CaptureOptions,
  ) {
    this.store = queue.ledgerStore(stamp.context.projectUuid);
    this.ledger = new Ledger(this.store);
  }

  add(draft: EnvelopeDraft): void {
    this.pending.push(draft);
    if (this.pending.length >= BATCH) this.flush();
  }

  flush(): void {
    const result = this.queue.enqueue(this.pending, { store: this.store, ...this.ledger.drain() });
    this.pending = [];
    this.summary.queued += result.inserted.length;
    this.summary.alreadyQueued += result.ignored;
    const [first, ...more] = result.tooLarge;
    if (first) {
      const others = more.length ? ` and ${more.length} more` : '';
      this.options.warn(`kitty: warning: event ${first.eventId}${others} kept dead, never sent: ${first.reason}; see \`kitty events list --state dead\``);
    }
    if (this.stamp.missingUuidReason !== null && result.inserted.length > 0) {
      this.options.warn(`kitty: warning: ${MISSING_UUID_WARNING} (${this.stamp.missingUuidReason})`);
      this.stamp.missingUuidReason = null;
    }
  }
}

/**
 * What a real run would queue, each event once: the ledger reads what earlier runs decided but
 * keeps this run's decisions in memory only.
 */
class DryRunSink {
  readonly ledger: Ledger;
  private readonly seen = new Set<string>();
  private clock: number;

  constructor(
    private readonly queue: EventQueue | null,
    stamp: Stamp,
    private readonly summary: CaptureSummary,
    private readonly options: CaptureOptions,
  ) {
    this.ledger = new Ledger(queue?.ledgerStore(stamp.context.projectUuid) ?? null);
    this.clock = queue ? queue.peekClock(stamp.context.nodeId) : 0;
  }

  add(draft: EnvelopeDraft): void {
    if (this.seen.has(draft.event_id) || this.queue?.has(draft.event_id)) {
      this.summary.alreadyQueued++;
      return;
    }
    this.seen.add(draft.event_id);
    this.summary.queued++;
    this.options.onEvent?.({ ...draft, lamport_clock: ++this.clock });
  }

  flush(): void {
    this.ledger.drain();
  }
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_TEAM_SLUG, MISSING_UUID_WARNING } from '../constants.js';
import { buildEnvelope, type Envelope, type EnvelopeDraft, type StampContext } from '../derive/envelope.js';
import { reconcileRewrite } from '../derive/rewrite.js';
import type { Transition } from '../derive/transitions.js';
import { deriveCommits } from '../derive/walk.js';
import { KittyError } from '../errors/index.js';
import type { LogCommit } from '../git/log.js';
import { currentBranch, hasCommits, repoInfo, type RepoInfo } from '../git/repo.js';
import { resolveIdentity, type IdentitySource } from '../identity/index.js';
import { machineNodeId } from '../identity/node-id.js';
import { EventQueue } from '../queue/queue.js';
import { stateDir } from '../state/paths.js';

export interface CaptureOptions {
  cwd: string;
  /** The repository, when the caller already knows it (saves a git call). */
  repo?: RepoInfo;
  env?: NodeJS.ProcessEnv;
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
}

export interface CaptureSummary {
  commits: number;
  transitions: number;
  /** Newly queued (or, in a dry run, that would be). */
  queued: number;
  alreadyQueued: number;
  identitySource: IdentitySource | null;
}

const BATCH = 500;

/**
 * Derives the transitions of a commit range and appends them to the queue: the single emission
 * point for WPStatusChanged events. Re-running over the same commits queues nothing new.
 */
export async function captureRange(options: CaptureOptions): Promise<CaptureSummary> {
  const summary: CaptureSummary = { commits: 0, transitions: 0, queued: 0, alreadyQueued: 0, identitySource: null };
  const repo = options.repo ?? (await repoInfo(options.cwd, options.env));
  if (!options.revisions?.length && !(await hasCommits(repo.root, options.env))) return summary;

  let projectUuid: string | null = null;
  let projectSlug: string | null = null;
  let nodeId: string;
  let missingUuidReason: string | null = null;
  try {
    const identity = await resolveIdentity({ cwd: repo.root, env: options.env, repo, write: !options.dryRun, strict: options.strict, warn: options.warn });
    ({ projectUuid, projectSlug, nodeId } = identity);
    summary.identitySource = identity.source;
  } catch (error) {
    if (!(error instanceof KittyError) || options.strict) throw error;
    missingUuidReason = error.message;
    nodeId = machineNodeId();
  }
  const context: StampContext = {
    projectUuid,
    projectSlug,
    nodeId,
    teamSlug: LOCAL_TEAM_SLUG,
    branch: options.branch !== undefined ? options.branch : await currentBranch(repo.root, options.env),
  };

  const queuePath = join(stateDir(options.env), 'queue.db');
  const queue = options.dryRun && !existsSync(queuePath) ? null : EventQueue.open({ env: options.env });
  let clock = options.dryRun && queue ? queue.peekClock(nodeId) : 0;
  let pending: EnvelopeDraft[] = [];

  const flush = (): void => {
    if (pending.length === 0) return;
    if (options.dryRun) {
      for (const draft of pending) {
        if (queue?.has(draft.event_id)) {
          summary.alreadyQueued++;
        } else {
          summary.queued++;
          options.onEvent?.({ ...draft, lamport_clock: ++clock });
        }
      }
    } else {
      const result = queue!.enqueue(pending);
      summary.queued += result.inserted.length;
      summary.alreadyQueued += result.ignored;
      if (missingUuidReason !== null && result.inserted.length > 0) {
        options.warn(`kitty: warning: ${MISSING_UUID_WARNING} (${missingUuidReason})`);
        missingUuidReason = null;
      }
    }
    pending = [];
  };

  /** The moves of `olds` whose events are already in the queue. */
  const capturedTransitions = async (olds: readonly string[]): Promise<Transition[]> => {
    const captured: Transition[] = [];
    const walk = deriveCommits({ root: repo.root, env: options.env, revisions: ['--no-walk', ...olds], warn: options.warn });
    for await (const old of walk) {
      for (const transition of old.transitions) {
        const { event_id } = buildEnvelope(transition, context, { sha: old.commit.sha, authorDate: old.authorDate });
        if (queue!.has(event_id)) captured.push(transition);
      }
    }
    return captured;
  };

  try {
    const revisions = options.revisions?.length ? options.revisions : ['HEAD'];
    for await (const derived of deriveCommits({ root: repo.root, env: options.env, revisions, strict: options.strict, warn: options.warn })) {
      summary.commits++;
      let transitions = derived.transitions;
      const olds = options.rewrites?.(derived.commit);
      if (olds?.length && queue && !options.dryRun) {
        flush();
        const facts = { authorDate: derived.authorDate, authorName: derived.commit.authorName };
        transitions = reconcileRewrite(transitions, await capturedTransitions(olds), facts);
      }
      summary.transitions += transitions.length;
      for (const transition of transitions) {
        pending.push(buildEnvelope(transition, context, { sha: derived.commit.sha, authorDate: derived.authorDate }));
      }
      if (pending.length >= BATCH) flush();
      options.onProgress?.(summary.commits);
    }
    flush();
  } finally {
    queue?.close();
  }
  return summary;
}

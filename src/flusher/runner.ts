import { setTimeout as sleep } from 'node:timers/promises';
import { readCredentials } from '../auth/credentials.js';
import { recordTeam } from '../auth/teams.js';
import { machineNodeId } from '../identity/node-id.js';
import { EventQueue } from '../queue/queue.js';
import { LockTimeoutError, withFileLock } from '../state/lock.js';
import { type Env, ensureStateDir } from '../state/paths.js';
import { writeSyncRecord } from '../state/sync-record.js';
import { type DrainSummary, emptySummary } from './delivery.js';
import { drain } from './drain.js';
import { flusherLockPath, runningFlusher, startFlusherDetached } from './launch.js';

export interface FlushRun extends DrainSummary {
  /** Another flusher held the lock for the whole wait. */
  busy: boolean;
}

/** How a background flusher retries a server it cannot reach: waits double from `firstMs` up to `maxMs`, for `forMs` in all. */
interface RetrySchedule {
  firstMs: number;
  maxMs: number;
  forMs: number;
}

export const DEFAULT_RETRY: RetrySchedule = { firstMs: 1_000, maxMs: 30_000, forMs: 5 * 60_000 };

/**
 * Pure: KITTY_SYNC_BACKOFF=FIRST:MAX:FOR in milliseconds (default 1000:30000:300000). Anything
 * else is the default: a background process has nobody to report a typo to.
 */
export function retrySchedule(value: string | undefined): RetrySchedule {
  const parts = (value ?? '').split(':').map(Number);
  if (parts.length !== 3 || !parts.every((part) => Number.isSafeInteger(part) && part > 0)) return DEFAULT_RETRY;
  const [firstMs, maxMs, forMs] = parts as [number, number, number];
  return { firstMs, maxMs: Math.max(maxMs, firstMs), forMs };
}

/** Pure: the wait after the n-th failed attempt (1-based), jittered between half and all of it. */
export function retryDelayMs(schedule: RetrySchedule, failures: number, random = Math.random()): number {
  const full = Math.min(schedule.firstMs * 2 ** Math.min(failures - 1, 30), schedule.maxMs);
  return Math.round(full / 2 + (random * full) / 2);
}

function combine(total: DrainSummary, next: DrainSummary): DrainSummary {
  return {
    delivered: total.delivered + next.delivered,
    duplicate: total.duplicate + next.duplicate,
    rejected: total.rejected + next.rejected,
    unanswered: total.unanswered + next.unanswered,
    lastError: next.lastError,
    stoppedBecause: next.stoppedBecause,
    transport: next.transport ?? total.transport,
    clockRejected: total.clockRejected + next.clockRejected,
    tooLarge: total.tooLarge + next.tooLarge,
    warnings: [...total.warnings, ...next.warnings.filter((line) => !total.warnings.includes(line))],
    retryAfterMs: next.retryAfterMs,
    deliveredProjects: [...new Set([...total.deliveredProjects, ...next.deliveredProjects])],
  };
}

/**
 * After each attempt, what later commands read: the error `kitty sync status` shows, whether the
 * next hook or command should restart delivery, and which team the projects went to (a flusher
 * taken over by `sync flush` is killed, so nothing waits for the end of the run).
 */
function record(env: Env, queue: EventQueue, summary: DrainSummary): void {
  noteTeam(env, summary.deliveredProjects);
  const retryable = summary.stoppedBecause === 'unreachable' || summary.stoppedBecause === 'timeout';
  writeSyncRecord(env, {
    last_error: summary.stoppedBecause === 'drained' ? null : (summary.lastError ?? `stopped: ${summary.stoppedBecause}`),
    at: new Date().toISOString(),
    pending: retryable && queue.nextPending(1, 0).events.length > 0,
  });
}

/**
 * One flusher per state dir (a lock a killed flusher cannot leave stuck). Background runs give up
 * the lock at once if another runs, exit after a short idle period, and keep retrying a server
 * they cannot reach on the KITTY_SYNC_BACKOFF schedule; a foreground run waits for the lock and
 * retries until its deadline.
 */
export async function runFlusher(options: {
  env: Env;
  mode: 'background' | 'foreground';
  timeoutMs: number;
  log: (line: string) => void;
  onProgress?: (summary: DrainSummary) => void;
  httpOnly?: boolean;
  /** Ends the run early, as `stopOnSigterm` does for a background flusher. */
  stop?: AbortSignal;
}): Promise<FlushRun> {
  ensureStateDir(options.env);
  const deadline = Date.now() + options.timeoutMs;
  const background = options.mode === 'background';
  const running = background ? null : runningFlusher(options.env);
  if (running?.background) {
    // a background flusher may sit in a long backoff: the user asked for a flush now, so take over.
    // Asked to stop, it writes the acks it has (waiting up to a second for those in flight) and
    // lets go of the lock; what stays unacked is pending and sent again from here
    try {
      process.kill(running.pid, 'SIGTERM');
    } catch {
      // it has just exited
    }
  }
  try {
    const run = await withFileLock(
      flusherLockPath(options.env),
      async () => {
        const queue = EventQueue.open({ env: options.env });
        try {
          const summary = await attempts(queue, deadline, options);
          options.log(
            `flush ${summary.stoppedBecause}: ${summary.delivered} delivered, ${summary.duplicate} duplicate, ${summary.rejected} rejected over ${summary.transport ?? 'nothing'}`,
          );
          return { ...summary, busy: false };
        } finally {
          queue.close();
        }
      },
      { timeoutMs: background ? 0 : options.timeoutMs, staleMs: 24 * 3600_000, tag: options.mode },
    );
    if (!background && run.stoppedBecause === 'drained') handOverLateEvents(options.env);
    return run;
  } catch (error) {
    if (!(error instanceof LockTimeoutError)) throw error;
    return { ...emptySummary(), stoppedBecause: 'timeout', busy: true };
  }
}

/**
 * A foreground flush ends as soon as the queue is empty. A hook that queued an event meanwhile
 * found the flusher lock taken and started no flusher of its own: one starts now for what it left.
 */
function handOverLateEvents(env: Env): void {
  const queue = EventQueue.open({ env });
  try {
    if (queue.nextPending(1, 0).events.length > 0) startFlusherDetached(env);
  } finally {
    queue.close();
  }
}

/** Which team this run's projects went to, for `kitty auth login` to warn before a switch. */
function noteTeam(env: Env, projects: readonly string[]): void {
  if (projects.length === 0) return;
  try {
    const team = readCredentials(env)?.team_slug;
    if (team) recordTeam(env, projects, team);
  } catch {
    // only a later warning depends on it
  }
}

/** A foreground drain retries inside itself until its deadline; a background one attempt by attempt, on the schedule. */
async function attempts(queue: EventQueue, deadline: number, options: Parameters<typeof runFlusher>[0]): Promise<DrainSummary> {
  const background = options.mode === 'background';
  const schedule = retrySchedule(options.env.KITTY_SYNC_BACKOFF);
  const drainOnce = () =>
    drain({
      env: options.env,
      queue,
      nodeId: machineNodeId(),
      deadline,
      idleMs: background ? 2_000 : 0,
      maxFailures: background ? 1 : Number.MAX_SAFE_INTEGER,
      log: options.log,
      onProgress: options.onProgress,
      httpOnly: options.httpOnly ?? options.env.KITTY_TRANSPORT === 'http',
      stop: options.stop,
    });
  let total = await drainOnce();
  record(options.env, queue, total);
  const failingSince = Date.now();
  for (let failures = 1; background && total.stoppedBecause === 'unreachable' && !options.stop?.aborted; failures++) {
    const wait = Math.max(retryDelayMs(schedule, failures), total.retryAfterMs);
    if (Date.now() + wait > Math.min(failingSince + schedule.forMs, deadline)) {
      options.log(`giving up for now after ${failures} attempts: ${total.lastError}; the next hook run or kitty command retries`);
      break;
    }
    options.log(`attempt ${failures} failed (${total.lastError}); retrying in ${wait} ms`);
    await sleep(wait, undefined, { signal: options.stop }).catch(() => undefined);
    if (options.stop?.aborted) break;
    total = combine(total, await drainOnce());
    record(options.env, queue, total);
  }
  return total;
}

/** How long a background flusher asked to stop may take before it exits regardless. */
const STOP_DEADLINE_MS = 5_000;

/**
 * SIGTERM (from `kitty sync flush` taking over) as a stop: the run ends its round and writes what
 * the server acked, instead of dying with acks unwritten (their events would be sent again).
 */
export function stopOnSigterm(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onTerm = (): void => {
    controller.abort();
    setTimeout(() => process.exit(143), STOP_DEADLINE_MS).unref();
  };
  process.once('SIGTERM', onTerm);
  return { signal: controller.signal, dispose: () => process.off('SIGTERM', onTerm) };
}

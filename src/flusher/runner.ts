import { machineNodeId } from '../identity/node-id.js';
import { EventQueue } from '../queue/queue.js';
import { LockTimeoutError, withFileLock } from '../state/lock.js';
import { ensureStateDir, type Env } from '../state/paths.js';
import { drain, type DrainSummary } from './drain.js';
import { flusherLockPath, runningFlusher } from './launch.js';

export interface FlushRun extends DrainSummary {
  /** Another flusher held the lock for the whole wait. */
  busy: boolean;
}

/**
 * One flusher per state dir (a lock a killed flusher cannot leave stuck). Background runs give up
 * the lock at once if another runs, and exit after a short idle period or a few failed attempts;
 * a foreground run waits for the lock and retries until its deadline.
 */
export async function runFlusher(options: {
  env: Env;
  mode: 'background' | 'foreground';
  timeoutMs: number;
  log: (line: string) => void;
  onProgress?: (summary: DrainSummary) => void;
  httpOnly?: boolean;
}): Promise<FlushRun> {
  ensureStateDir(options.env);
  const deadline = Date.now() + options.timeoutMs;
  const background = options.mode === 'background';
  const running = background ? null : runningFlusher(options.env);
  if (running?.background) {
    // a background flusher may sit in a long backoff: the user asked for a flush now, so take over;
    // what it had in flight stays pending and its lock, left by a dead pid, is taken over at once
    try {
      process.kill(running.pid, 'SIGTERM');
    } catch {
      // it has just exited
    }
  }
  try {
    return await withFileLock(
      flusherLockPath(options.env),
      async () => {
        const queue = EventQueue.open({ env: options.env });
        try {
          const summary = await drain({
            env: options.env,
            queue,
            nodeId: machineNodeId(),
            deadline,
            idleMs: background ? 2_000 : 300,
            maxFailures: background ? 6 : Number.MAX_SAFE_INTEGER,
            log: options.log,
            onProgress: options.onProgress,
            httpOnly: options.httpOnly ?? options.env.KITTY_TRANSPORT === 'http',
          });
          options.log(`flush ${summary.stoppedBecause}: ${summary.delivered} delivered, ${summary.duplicate} duplicate, ${summary.rejected} rejected over ${summary.transport ?? 'nothing'}`);
          return { ...summary, busy: false };
        } finally {
          queue.close();
        }
      },
      { timeoutMs: background ? 0 : options.timeoutMs, staleMs: 24 * 3600_000, tag: options.mode },
    );
  } catch (error) {
    if (!(error instanceof LockTimeoutError)) throw error;
    return { delivered: 0, duplicate: 0, rejected: 0, unanswered: 0, lastError: null, stoppedBecause: 'timeout', transport: null, clockRejected: 0, tooLarge: 0, warnings: [], busy: true };
  }
}

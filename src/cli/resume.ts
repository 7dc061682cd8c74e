import { startFlusherDetached } from '../flusher/launch.js';
import type { Env } from '../state/paths.js';
import { readSyncRecord } from '../state/sync-record.js';

/**
 * Events left pending by a flusher that gave up on an unreachable server are retried by the next
 * kitty command: a file read, and at most a detached process; never a wait on the network here.
 */
export function resumeDelivery(env: Env): void {
  try {
    if (readSyncRecord(env)?.pending) startFlusherDetached(env);
  } catch {
    // delivery resumes with the next hook run instead; the command the user ran is what matters
  }
}

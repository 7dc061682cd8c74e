import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { type Env, stateDir } from './paths.js';

/**
 * What the last flush attempt left behind, for `kitty sync status` and for whoever may restart the
 * flusher: the queue keeps per-event errors only, and a server that is down is no event's fault.
 */
interface SyncRecord {
  /** The last attempt's error; null once an attempt delivered everything. */
  last_error: string | null;
  /** ISO time of that attempt. */
  at: string;
  /** Sendable events were left pending for a reason a later attempt may overcome (not a lost login). */
  pending: boolean;
}

function syncRecordPath(env: Env): string {
  return join(stateDir(env), 'sync.json');
}

export function readSyncRecord(env: Env): SyncRecord | null {
  try {
    const value = JSON.parse(readFileSync(syncRecordPath(env), 'utf8')) as Partial<SyncRecord>;
    if (typeof value.at !== 'string') return null;
    return { last_error: typeof value.last_error === 'string' ? value.last_error : null, at: value.at, pending: value.pending === true };
  } catch {
    return null;
  }
}

/** Never throws: a full disk must not turn a flush into a crash; the log still has the error. */
export function writeSyncRecord(env: Env, record: SyncRecord): void {
  try {
    writeFileAtomic(syncRecordPath(env), `${JSON.stringify(record)}\n`, 0o600);
  } catch {
    // the record is a courtesy; delivery does not depend on it
  }
}

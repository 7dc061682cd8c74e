import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from '../errors/index.js';

interface Owner {
  pid: number;
  host: string;
  at: number;
}

interface LockOptions {
  timeoutMs?: number;
  /** A lock older than this is taken over even if its owner looks alive (a hung or recycled pid). */
  staleMs?: number;
  /** A word saying what holds the lock, written after the owner (e.g. `background`). */
  tag?: string;
}

export class LockTimeoutError extends Error {
  constructor(
    readonly path: string,
    readonly owner: Owner | null,
  ) {
    super(`timed out waiting for lock ${path}${owner ? ` held by pid ${owner.pid}` : ''}`);
  }
}

/** Owner line `pid host ms [tag]`: plain words, so the hook stub can read the pid with `read` alone. */
function readOwner(path: string): Owner | null {
  try {
    const [pid, host, at] = readFileSync(path, 'utf8').trim().split(' ');
    return pid && host && at ? { pid: Number(pid), host, at: Number(at) } : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

function isStale(owner: Owner | null, staleMs: number): boolean {
  if (!owner) return false;
  if (Date.now() - owner.at > staleMs) return true;
  return owner.host === hostname() && !alive(owner.pid);
}

/** A takeover guard older than this was left by a process that died while taking a lock over. */
const GUARD_STALE_MS = 5_000;

/**
 * Removes a stale lock, unless it is no longer the one found stale. Two waiters that both found it
 * stale must not both remove "it": the second would remove the fresh lock the first has just made,
 * and both would hold it. So takeovers take turns under a guard file, and each removes the lock only
 * if its owner line is still the stale one.
 */
function takeOver(path: string, stale: Owner): void {
  const guard = `${path}.takeover`;
  let fd: number;
  try {
    fd = openSync(guard, 'wx', 0o644);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
    removeIfOlder(guard, GUARD_STALE_MS);
    return;
  }
  try {
    const owner = readOwner(path);
    if (owner && owner.pid === stale.pid && owner.host === stale.host && owner.at === stale.at) unlinkSync(path);
  } catch {
    // already gone: released, or removed by a takeover before ours
  } finally {
    closeSync(fd);
    unlinkSync(guard);
  }
}

function removeIfOlder(path: string, ageMs: number): void {
  try {
    if (Date.now() - statSync(path).mtimeMs > ageMs) unlinkSync(path);
  } catch {
    // gone already
  }
}

/**
 * An exclusive lock file (O_EXCL) for short critical sections across processes. A lock left by a
 * killed process is recognised by its dead pid and taken over, so a crash never leaves it stuck.
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T> | T, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, `${process.pid} ${hostname()} ${Date.now()}${options.tag ? ` ${options.tag}` : ''}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
      const owner = readOwner(path);
      if (isStale(owner, staleMs)) {
        takeOver(path, owner!);
        continue;
      }
      if (Date.now() >= deadline) throw new LockTimeoutError(path, owner);
      await sleep(Math.min(5 + attempt * 5, 50) + Math.random() * 10);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // already gone (taken over as stale); nothing to release
    }
  }
}

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentialsPath } from '../auth/credentials.js';
import { CLI_PATH } from '../package.js';
import { type Env, ensureStateDir, stateDir } from '../state/paths.js';

// Kept apart from runner.ts so the hook worker, which only starts a flusher, never loads the transport.

export function flusherLockPath(env: Env): string {
  return join(stateDir(env), 'flusher.lock');
}

/** The flusher that runs now for this state dir, if any, and whether it is a background one. */
export function runningFlusher(env: Env): { pid: number; background: boolean } | null {
  try {
    const [pid, , , tag] = readFileSync(flusherLockPath(env), 'utf8').trim().split(' ');
    const number = Number(pid);
    if (!Number.isSafeInteger(number) || number <= 0) return null;
    process.kill(number, 0);
    return { pid: number, background: tag === 'background' };
  } catch {
    return null;
  }
}

/**
 * Starts a detached background flusher unless one runs or nobody is logged in. It never blocks
 * the caller (a hook worker): output goes to its log file, not to any pipe git is waiting on.
 */
export function startFlusherDetached(env: Env): boolean {
  if (runningFlusher(env) !== null || !existsSync(credentialsPath(env))) return false;
  // it outlives the command that started it, so it works in its own state dir rather than holding
  // on to wherever that command ran (a repository the user may delete or unmount meanwhile)
  const cwd = ensureStateDir(env);
  const child = spawn(process.execPath, [CLI_PATH, 'sync', 'run'], { cwd, detached: true, stdio: 'ignore', env: env as NodeJS.ProcessEnv });
  child.unref();
  return true;
}

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { EventQueue } from '../../src/queue/queue.js';
import { NODE } from './events.js';
import { ROOT, tempDir, testEnv } from './gitdir.js';
import { login, startServer } from './server.js';

export function enqueue(home: string, count: number, tag = 'x'): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'tests/helpers/enqueue-worker.mjs'), String(count), tag, NODE], { env: testEnv(home), encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
}

/** A running server, and a state dir logged in to it (from `cwd`) holding `count` queued events. */
export async function loggedInWithQueue(count: number, extraEnv: NodeJS.ProcessEnv = {}) {
  const server = await startServer();
  const home = tempDir();
  const env = testEnv(home, extraEnv);
  const cwd = tempDir();
  expect(login(server.url, cwd, env).code).toBe(0);
  if (count > 0) enqueue(home, count);
  return { server, home, env, cwd };
}

export function counts(env: NodeJS.ProcessEnv) {
  const queue = EventQueue.open({ env });
  try {
    return queue.counts();
  } finally {
    queue.close();
  }
}

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { EventQueue } from '../../src/queue/queue.js';
import { NODE } from './events.js';
import { ROOT, tempDir, testEnv } from './gitdir.js';
import { login, startServer } from './server.js';

/** The enqueue worker: a separate process appending `count` valid events, as a hook worker does. */
function workerArgs(count: number, tag: string, nodeId: string): string[] {
  return [join(ROOT, 'tests/helpers/enqueue-worker.mjs'), String(count), tag, nodeId];
}

/** Queues `count` events in the state dir `home` from another process; the Lamport clocks they got. */
export function enqueue(home: string, count: number, tag = 'x', nodeId = NODE): number[] {
  const result = spawnSync(process.execPath, workerArgs(count, tag, nodeId), { env: testEnv(home), encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as number[];
}

/** As `enqueue`, without waiting: for several writer processes at once. */
export function enqueueConcurrently(home: string, count: number, tag: string, nodeId = NODE): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, workerArgs(count, tag, nodeId), { env: testEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`enqueue worker ${tag} exited ${code}: ${err}`))));
  });
}

/** A running server, and a state dir logged in to it (from `cwd`) holding `count` queued events. */
export async function loggedInWithQueue(count: number, extraEnv: NodeJS.ProcessEnv = {}) {
  const server = await startServer();
  const home = tempDir();
  const env = testEnv(home, extraEnv);
  const cwd = tempDir();
  expect((await login(server.url, cwd, env)).code).toBe(0);
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

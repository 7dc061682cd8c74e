import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { Envelope } from '../../src/events/envelope.js';
import { EventQueue } from '../../src/queue/queue.js';
import { gitdir, type Repo } from './gitdir.js';

export const F = 'kitty-specs/001-demo/tasks';

/** A repository with kitty's hooks installed; the worker runs in the foreground unless `background`. */
export async function hookedRepo(
  options: { background?: boolean; files?: Record<string, string>; dir?: string; home?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Repo> {
  const repo = gitdir(options.files ?? { 'README.md': 'demo\n' }, { dir: options.dir, home: options.home });
  Object.assign(repo.env, options.env);
  if (!options.background) repo.env.KITTY_HOOK_SYNC = '1';
  const install = await repo.run(['hooks', 'install']);
  expect(install.code, install.stderr).toBe(0);
  repo.commit('kitty identity');
  return repo;
}

/** What is in the queue, read directly: nothing here completes pending captures on the side. */
export function queued(repo: { env: NodeJS.ProcessEnv }): Envelope[] {
  const queue = EventQueue.open({ env: repo.env });
  try {
    return queue.list({ state: 'all' }).events.map((event) => event.envelope);
  } finally {
    queue.close();
  }
}

export function moves(events: Envelope[]): string[] {
  return events.map((event) => {
    const p = event.payload as { wp_id: string; from_lane: string | null; to_lane: string };
    return `${p.wp_id} ${p.from_lane ?? '-'}>${p.to_lane}`;
  });
}

/** Probes until `done` holds; past the timeout it fails the test with the last value seen (never returns quietly). */
export async function waitFor<T>(probe: () => T, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: not done after ${timeoutMs} ms; last value: ${JSON.stringify(value)?.slice(0, 500)}`);
    await sleep(50);
  }
}

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnvelopeDraft } from '../../src/events/envelope.js';
import { EventQueue } from '../../src/queue/queue.js';
import type { Limits } from '../../src/server/limits.js';
import { MAX_ENVELOPE_BYTES } from '../../src/transport/limits.js';
import { draft } from '../helpers/events.js';
import { runKittyHere, tempDir, testEnv } from '../helpers/gitdir.js';
import { serverInProcess } from '../helpers/server.js';

/** A kitty server in this process with one user of `team`, and a state dir logged in to it; flushes go over batch HTTP. */
async function loggedIn(team: string, limits: Partial<Limits> = {}) {
  const server = await serverInProcess({ team, limits });
  const home = tempDir();
  const env = testEnv(home, { KITTY_TRANSPORT: 'http' });
  const cwd = tempDir();
  const login = await runKittyHere(['auth', 'login', '--server', server.url, '--username', 'demo', '--password-stdin'], cwd, env, 'demo-pass');
  expect(login.code, login.stderr).toBe(0);
  return { server, home, env, cwd };
}

function enqueue(env: NodeJS.ProcessEnv, drafts: EnvelopeDraft[]): void {
  const queue = EventQueue.open({ env });
  try {
    queue.enqueue(drafts);
  } finally {
    queue.close();
  }
}

describe('kitty sync flush over batch HTTP', () => {
  it('an access token the server no longer knows is refreshed, and the same batch is sent again', async () => {
    const { home, env, cwd } = await loggedIn('acme');
    enqueue(env, [draft('01KC0000000000000000000001'), draft('01KC0000000000000000000002')]);
    const path = join(home, 'credentials.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), access: 'forgotten-by-the-server' }), { mode: 0o600 });
    const result = await runKittyHere(['sync', 'flush', '--json'], cwd, env);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ delivered: 2, duplicate: 0, rejected: 0, pending: 0, transport: 'http' });
    expect(JSON.parse(readFileSync(path, 'utf8')).access).not.toBe('forgotten-by-the-server');
  });

  it('events the server refuses for their Lamport value (code lamport_too_far_ahead) are dead with the reset-clock advice', async () => {
    const { env, cwd } = await loggedIn('acme', { lamportLead: 0 });
    enqueue(env, [draft('01KC0000000000000000000003')]);
    const result = await runKittyHere(['sync', 'flush'], cwd, env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        'kitty sync flush: 0 delivered, 0 duplicate, 1 rejected; 0 still pending',
        '1 events were rejected for their Lamport clock: run `kitty sync reset-clock`, then `kitty sync flush`',
        '',
      ].join('\n'),
    );
    const dead = await runKittyHere(['events', 'list', '--state', 'dead'], cwd, env);
    expect(dead.stdout).toContain('hint: run `kitty sync reset-clock`, then `kitty sync flush`');
  });

  it('an event that only outgrows the size limit once stamped with a longer team is kept dead here, never sent', async () => {
    const team = 'a-team-with-a-rather-long-slug';
    const { server, env, cwd } = await loggedIn(team);
    // as queued: team "local", a few bytes under the limit
    const base = draft('01KC0000000000000000000004', { payload: { ...draft('x').payload, note: '' } });
    const size = Buffer.byteLength(JSON.stringify({ ...base, lamport_clock: 1 }));
    const fits = draft('01KC0000000000000000000004', { payload: { ...draft('x').payload, note: 'n'.repeat(MAX_ENVELOPE_BYTES - size - 5) } });
    enqueue(env, [fits, draft('01KC0000000000000000000005')]);
    const result = await runKittyHere(['sync', 'flush', '--timeout', '20'], cwd, env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        'kitty sync flush: 1 delivered, 0 duplicate, 0 rejected; 0 still pending',
        `1 events are over the ${MAX_ENVELOPE_BYTES}-byte limit of one event and are kept here, never sent: see \`kitty events list --state dead\``,
        '',
      ].join('\n'),
    );
    const stored = await server.store.eventsAfter(team, '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e', null, 10, 1 << 20);
    expect(stored.events.map((raw) => (JSON.parse(raw) as { event_id: string }).event_id)).toEqual(['01KC0000000000000000000005']);
  });
});

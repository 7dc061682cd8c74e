import { monotonicFactory } from 'ulid';
import { describe, expect, it } from 'vitest';
import { EventQueue, type QueuedEvent } from '../../src/queue/queue.js';
import { draft } from '../helpers/events.js';
import { fakeSync, writeCredentials } from '../helpers/fake-sync.js';
import { gitdir, runKittyAsync, tempDir, testEnv, wp } from '../helpers/gitdir.js';
import { F } from '../helpers/hooks.js';
import { login, startServer } from '../helpers/server.js';
import { counts } from '../helpers/sync.js';

const KIB = 1024;

function dead(env: NodeJS.ProcessEnv): QueuedEvent[] {
  const queue = EventQueue.open({ env });
  try {
    return queue.list({ state: 'dead' }).events;
  } finally {
    queue.close();
  }
}

/** `count` events of about `bytes` each (the actor is padded), queued in a fresh state dir. */
function queueLargeEvents(env: NodeJS.ProcessEnv, count: number, bytes: number): void {
  const ulid = monotonicFactory();
  const queue = EventQueue.open({ env });
  try {
    queue.enqueue(
      Array.from({ length: count }, () => {
        const base = draft(ulid());
        return { ...base, payload: { ...base.payload, actor: 'a'.repeat(bytes) } };
      }),
    );
  } finally {
    queue.close();
  }
}

describe('event size limits on the client', () => {
  it('an event over 64 KiB is dead at enqueue with the reason; the flush sends the others and never it', async () => {
    const server = await startServer();
    const repo = gitdir({ 'README.md': 'x\n' });
    repo.commit('plan', {
      files: {
        [`${F}/WP01.md`]: wp({ lane: 'planned' }),
        [`${F}/WP02.md`]: wp({ lane: 'planned', history: [{ timestamp: '2026-01-01T00:00:00Z', lane: 'planned', agent: 'x'.repeat(80 * KIB) }] }),
      },
    });
    // logged in first: a login starts delivery of what is already queued
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    const derive = await repo.run(['derive', '--json']);
    expect(derive.code, derive.stderr).toBe(0);
    const [big, ...others] = dead(repo.env);
    expect(others).toEqual([]);
    expect(big!.envelope.aggregate_id).toBe('WP02');
    expect(big!.lastError).toMatch(
      /^KITTY_ERR_EVENT_TOO_LARGE: envelope is \d+ bytes as JSON \(mostly payload\.actor\), over the 65536-byte limit of one event; kept here, never sent$/,
    );
    const list = await repo.run(['events', 'list', '--state', 'dead']);
    expect(list.stdout).toContain('KITTY_ERR_EVENT_TOO_LARGE');

    const flush = await repo.kittyAsync(['sync', 'flush', '--json', '--timeout', '30']);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 1, rejected: 0, pending: 0, dead: 1 });
    expect(server.events().map((event) => event.event_id)).not.toContain(big!.envelope.event_id);
    expect(server.process.exitCode).toBeNull();
  });

  it('an oversized event moved back by `retry-dead` is kept dead at send time, never put in a frame', async () => {
    const fake = await fakeSync();
    const home = tempDir();
    const env = testEnv(home);
    writeCredentials(home, fake.url);
    queueLargeEvents(env, 3, 70 * KIB);
    expect(counts(env)).toMatchObject({ pending: 0, dead: 3 });
    expect((await runKittyAsync(['sync', 'retry-dead'], tempDir(), env)).code).toBe(0);
    expect(counts(env)).toMatchObject({ pending: 3 });
    // retry-dead started a background flusher: whichever flusher meets them first keeps them dead
    const flush = await runKittyAsync(['sync', 'flush', '--json', '--timeout', '20'], tempDir(), env);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 0, pending: 0, dead: 3 });
    expect(fake.received.size).toBe(0);
    expect(dead(env).every((event) => event.lastError?.startsWith('KITTY_ERR_EVENT_TOO_LARGE: '))).toBe(true);
  });

  it('WebSocket frames hold at most 100 events and 1 MiB, whatever the events weigh', async () => {
    const fake = await fakeSync();
    const home = tempDir();
    const env = testEnv(home);
    writeCredentials(home, fake.url);
    queueLargeEvents(env, 250, 30 * KIB);
    queueLargeEvents(env, 250, 10);
    const flush = await runKittyAsync(['sync', 'flush', '--json', '--timeout', '60'], tempDir(), env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 500, pending: 0, transport: 'websocket' });
    expect(fake.received.size).toBe(500);
    expect(Math.max(...fake.frames.map((frame) => frame.bytes))).toBeLessThanOrEqual(1024 * KIB);
    expect(Math.max(...fake.frames.map((frame) => frame.events))).toBe(100);
    // frames are filled, not cut short: 250 × 30 KiB needs 8 of about 1 MiB
    expect(fake.frames.filter((frame) => frame.bytes > 900 * KIB).length).toBeGreaterThanOrEqual(7);
  });

  it('batch bodies stay within 1 MiB of JSON and 1000 events', async () => {
    const fake = await fakeSync();
    const home = tempDir();
    const env = testEnv(home, { KITTY_TRANSPORT: 'http' });
    writeCredentials(home, fake.url);
    queueLargeEvents(env, 200, 30 * KIB);
    queueLargeEvents(env, 2200, 10);
    const flush = await runKittyAsync(['sync', 'flush', '--json', '--timeout', '60'], tempDir(), env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 2400, pending: 0, transport: 'http' });
    expect(Math.max(...fake.batches.map((batch) => batch.bytes))).toBeLessThanOrEqual(1024 * KIB);
    expect(Math.max(...fake.batches.map((batch) => batch.events))).toBe(1000);
  });
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from '../../src/deps/better-sqlite3.js';
import { EventQueue } from '../../src/queue/queue.js';
import { draft, NODE } from '../helpers/events.js';
import { gitdir, runKittyHere, tempDir, testEnv } from '../helpers/gitdir.js';
import { enqueueConcurrently } from '../helpers/sync.js';

describe('event queue and Lamport clock', () => {
  it('takes 8 concurrent writer processes × 200 events: 1600 rows, every clock value distinct', async () => {
    const home = tempDir();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => enqueueConcurrently(home, 200, `w${i}`)));
    const clocks = results.flat();
    expect(clocks).toHaveLength(1600);
    expect(new Set(clocks).size).toBe(1600);
    for (const perProcess of results) expect(perProcess).toEqual([...perProcess].sort((a, b) => a - b));
    const queue = EventQueue.open({ env: testEnv(home) });
    try {
      expect(queue.counts()).toEqual({ pending: 1600, delivered: 0, dead: 0 });
      expect(queue.peekClock(NODE)).toBe(Math.max(...clocks));
    } finally {
      queue.close();
    }
  });

  it('ignores an event_id already queued, keeping the first row, its place, state and attempts', () => {
    const env = testEnv(tempDir());
    const queue = EventQueue.open({ env });
    try {
      expect(queue.enqueue([draft('E1'), draft('E2')]).inserted.map((e) => e.lamport_clock)).toEqual([1, 2]);
      const again = queue.enqueue([draft('E1', { timestamp: '2030-01-01T00:00:00Z' }), draft('E3')]);
      expect(again.ignored).toBe(1);
      expect(again.inserted.map((e) => [e.event_id, e.lamport_clock])).toEqual([['E3', 3]]);
      const { events } = queue.list({ state: 'all' });
      expect(events.map((e) => e.envelope.event_id)).toEqual(['E1', 'E2', 'E3']);
      expect(events[0]!.envelope.timestamp).toBe('2026-01-01T00:00:00Z');
      // derived again later (a rerun of `kitty derive`): a delivered or dead event keeps its state
      queue.applyResults([
        { event_id: 'E1', status: 'success' },
        { event_id: 'E2', status: 'rejected', error: 'bad lane' },
      ]);
      expect(queue.enqueue([draft('E1'), draft('E2')]).ignored).toBe(2);
      expect(queue.list({ state: 'all' }).events.map((e) => [e.envelope.event_id, e.state, e.attempts, e.lastError])).toEqual([
        ['E1', 'delivered', 1, null],
        ['E2', 'dead', 1, 'rejected by server: bad lane'],
        ['E3', 'pending', 0, null],
      ]);
    } finally {
      queue.close();
    }
  });

  it('never goes backwards when its row is lost or corrupted, and applies a server clock', () => {
    const home = tempDir();
    const env = testEnv(home);
    const queue = EventQueue.open({ env });
    queue.enqueue([draft('A'), draft('B'), draft('C')]);
    queue.close();
    const db = new Database(join(home, 'queue.db'));
    db.prepare('DELETE FROM clock').run();
    db.close();
    const reopened = EventQueue.open({ env });
    expect(reopened.enqueue([draft('D')]).inserted[0]!.lamport_clock).toBe(4);
    reopened.close();
    const raw = new Database(join(home, 'queue.db'));
    raw.prepare("UPDATE clock SET value = 'garbage'").run();
    raw.close();
    const third = EventQueue.open({ env });
    try {
      expect(third.enqueue([draft('E')]).inserted[0]!.lamport_clock).toBe(5);
      expect(third.receiveClock(NODE, 41)).toBe(41);
      expect(third.enqueue([draft('F')]).inserted[0]!.lamport_clock).toBe(42);
      expect(third.receiveClock(NODE, 7)).toBe(42);
    } finally {
      third.close();
    }
  });

  it('quarantines a corrupted row as dead with the reason, never drops it, and keeps --json clean', async () => {
    const repo = gitdir();
    const queue = EventQueue.open({ env: repo.env });
    queue.enqueue([draft('GOOD1'), draft('BROKEN'), draft('GOOD2')]);
    queue.close();
    const db = new Database(join(repo.home, 'queue.db'));
    db.prepare("UPDATE events SET envelope = '{truncated' WHERE event_id = 'BROKEN'").run();
    db.close();
    const listed = await repo.run(['events', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { event_id: string }[]).map((e) => e.event_id)).toEqual(['GOOD1', 'GOOD2']);
    expect(listed.stderr).toMatch(/KITTY_ERR_QUEUE_ROW_CORRUPT: queue row 2 \(BROKEN\) is unreadable/);
    const check = new Database(join(repo.home, 'queue.db'));
    const row = check.prepare("SELECT state, last_error, envelope FROM events WHERE event_id = 'BROKEN'").get() as Record<string, string>;
    check.close();
    expect(row).toMatchObject({ state: 'dead', envelope: '{truncated' });
    expect(row.last_error).toMatch(/^KITTY_ERR_QUEUE_ROW_CORRUPT/);
    expect((await repo.run(['events', 'list', '--state', 'dead'])).stderr).toContain('BROKEN');
  });

  it('stores an event without project_uuid as not sendable, with the warning', async () => {
    const repo = gitdir();
    repo.write('.kittify/config.yaml/oops', 'a directory where the config belongs');
    repo.commit('wp', { files: { 'kitty-specs/f/tasks/WP01.md': '---\nlane: planned\n---\n' } });
    const result = await repo.run(['derive']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('event missing project_uuid; queued locally only');
    const queue = EventQueue.open({ env: repo.env });
    try {
      const [event] = queue.list().events;
      expect(event!.sendable).toBe(false);
      expect(event!.envelope.project_uuid).toBeNull();
    } finally {
      queue.close();
    }
  });

  it('a queue from before version 3 gets the status indexes when opened; status reads them, not every pending event', () => {
    const env = testEnv(tempDir());
    const path = join(env.KITTY_HOME!, 'queue.db');
    const first = EventQueue.open({ env });
    first.enqueue([draft('E1'), draft('E2', { project_uuid: null }), draft('E3'), draft('E4', { project_uuid: null })]);
    first.applyResults([{ event_id: 'E3', status: 'rejected', error: 'bad lane' }]);
    first.close();
    const old = new Database(path);
    old.exec('DROP INDEX events_error');
    old.exec('DROP INDEX events_local');
    old.pragma('user_version = 2');
    old.close();

    const queue = EventQueue.open({ env });
    try {
      expect(queue.stats()).toMatchObject({ lastError: 'rejected by server: bad lane', notSendable: 2, oldestPending: expect.any(String) });
    } finally {
      queue.close();
    }
    const db = new Database(path, { readonly: true });
    const plan = (sql: string): string => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((row) => row.detail).join('; ');
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    expect(plan('SELECT last_error FROM events WHERE last_error IS NOT NULL ORDER BY updated_at DESC LIMIT 1')).toContain('events_error');
    expect(plan("SELECT created_at FROM events WHERE state = 'pending' AND sendable = 1 ORDER BY seq LIMIT 1")).not.toContain('TEMP B-TREE');
    db.close();
  });

  it('warns of a backlog at 100,000 pending events and keeps every one of them', async () => {
    const home = tempDir();
    const env = testEnv(home);
    const queue = EventQueue.open({ env });
    try {
      const ids = Array.from({ length: 100_000 }, (_, i) => `E${String(i).padStart(7, '0')}`);
      expect(queue.enqueue(ids.slice(0, 99_999).map((id) => draft(id))).inserted).toHaveLength(99_999);
      const below = await runKittyHere(['sync', 'status'], tempDir(), env);
      expect(below.stderr).toBe('');
      queue.enqueue([draft(ids.at(-1)!)]);
    } finally {
      queue.close();
    }
    const human = await runKittyHere(['sync', 'status'], tempDir(), env);
    expect(human.stdout).toMatch(/^queue: 100000 pending, 0 delivered, 0 dead$/m);
    expect(human.stderr).toBe('kitty: warning: 100000 events are pending, a backlog nothing is dropped from; send them with `kitty sync flush`\n');
    const json = await runKittyHere(['sync', 'status', '--json'], tempDir(), env);
    expect(JSON.parse(json.stdout)).toMatchObject({ pending: 100_000, backlog: true });
  });

  it('fails with KITTY_ERR_QUEUE_LOCKED when the queue stays locked past the timeout', async () => {
    const repo = gitdir();
    repo.commit('wp', { files: { 'kitty-specs/f/tasks/WP01.md': '---\nlane: planned\n---\n' } });
    EventQueue.open({ env: repo.env }).close();
    const holder = new Database(join(repo.home, 'queue.db'));
    holder.exec('BEGIN EXCLUSIVE');
    try {
      const result = await repo.run(['derive'], { env: { KITTY_QUEUE_TIMEOUT_MS: '200' } });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^kitty: error KITTY_ERR_QUEUE_LOCKED: .*queue\.db stayed locked/);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect((await repo.run(['derive', '--json'])).code).toBe(0);
  });
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from '../../src/deps/better-sqlite3.js';
import { machineNodeId } from '../../src/identity/node-id.js';
import { EventQueue, type QueuedEvent } from '../../src/queue/queue.js';
import { fakeSync, writeCredentials } from '../helpers/fake-sync.js';
import { gitdir, type Repo, wp } from '../helpers/gitdir.js';
import { F, queued } from '../helpers/hooks.js';
import { login, startServer } from '../helpers/server.js';
import { counts } from '../helpers/sync.js';

const POISON = Number.MAX_SAFE_INTEGER;

function planned(): Repo {
  const repo = gitdir({ 'README.md': 'x\n' });
  repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }), [`${F}/WP02.md`]: wp({ lane: 'planned' }) } });
  return repo;
}

async function derive(repo: Repo): Promise<void> {
  const result = await repo.run(['derive']);
  expect(result.code, result.stderr).toBe(0);
}

function events(repo: Repo, state: 'dead' | 'all' = 'all'): QueuedEvent[] {
  const queue = EventQueue.open({ env: repo.env });
  try {
    return queue.list({ state }).events;
  } finally {
    queue.close();
  }
}

/** The state a client was left in by adopting 2^53-1 before kitty bounded its clock. */
function poison(repo: Repo): void {
  const db = new Database(join(repo.home, 'queue.db'));
  try {
    db.prepare('UPDATE clock SET value = ? WHERE node_id = ?').run(POISON, machineNodeId());
    db.prepare("UPDATE events SET lamport_clock = @poison + seq, envelope = json_set(envelope, '$.lamport_clock', @poison + seq)").run({ poison: POISON });
  } finally {
    db.close();
  }
}

describe('the Lamport clock against poisoned server clocks', () => {
  it.each([
    ['2^53-1', POISON],
    ['a billion and more ahead', 5_000_000_000],
  ])("never adopts a server clock of %s: the next event is stamped from this machine's clock, with a warning", async (_name, serverClock) => {
    const fake = await fakeSync({ serverClock });
    const repo = planned();
    await derive(repo);
    writeCredentials(repo.home, fake.url);
    const flush = await repo.kittyAsync(['sync', 'flush', '--json', '--timeout', '20']);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 2, pending: 0 });
    expect(flush.stderr).toMatch(
      new RegExp(`^kitty: warning: ignored the server's Lamport clock: server clock ${serverClock} is .*; this machine's clock stays at 2$`, 'm'),
    );
    repo.commit('start', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    await derive(repo);
    expect(queued(repo).map((event) => event.lamport_clock)).toEqual([1, 2, 3]);
  });

  it('a client that already holds a poisoned clock recovers by itself: its pending events are restamped and delivered', async () => {
    const server = await startServer();
    const repo = planned();
    // logged in first: a login starts delivery of what is already queued
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    await derive(repo);
    poison(repo);
    expect(queued(repo).map((event) => event.lamport_clock)).toEqual([POISON + 1, POISON + 2].map(Number));
    // a new event is stamped from the last sane value, not from the poison
    repo.commit('start', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    await derive(repo);
    expect(queued(repo).at(-1)!.lamport_clock).toBe(1);

    const flush = await repo.kittyAsync(['sync', 'flush', '--json', '--timeout', '30']);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 3, rejected: 0, pending: 0, dead: 0 });
    expect(flush.stderr).toMatch(/^kitty: warning: 2 pending events carried a Lamport value above 2\^48 \(a clock poisoned by a server\); restamped them/m);
    expect(server.events()).toHaveLength(3);
    expect(
      queued(repo)
        .map((event) => event.lamport_clock)
        .sort((a, b) => a - b),
    ).toEqual([1, 2, 3]);
  });

  it('an event rejected for its Lamport clock is dead with the reason and the way out; `kitty sync reset-clock` restamps it for the next flush', async () => {
    const teamClock = 5;
    const fake = await fakeSync({
      serverClock: teamClock,
      judge: (event) => (event.lamport_clock > teamClock + 1000 ? `lamport_clock ${event.lamport_clock} is far beyond the team's clock ${teamClock}` : null),
    });
    const repo = gitdir({ 'README.md': 'x\n' });
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    // adopted from another team's server before this login: sane, but far beyond this team's clock
    const queue = EventQueue.open({ env: repo.env });
    queue.receiveClock(machineNodeId(), 1_000_000);
    queue.close();
    await derive(repo);
    writeCredentials(repo.home, fake.url);

    const flush = await repo.kittyAsync(['sync', 'flush', '--timeout', '20']);
    expect(flush.code, flush.stderr).toBe(0);
    expect(flush.stdout).toContain('1 events were rejected for their Lamport clock: run `kitty sync reset-clock`, then `kitty sync flush`');
    const [rejected] = events(repo, 'dead');
    expect(rejected!.lastError).toBe(
      "rejected by server: lamport_clock 1000001 is far beyond the team's clock 5; hint: run `kitty sync reset-clock`, then `kitty sync flush`",
    );
    const again = await repo.kittyAsync(['sync', 'flush', '--json', '--timeout', '20']);
    expect(JSON.parse(again.stdout)).toMatchObject({ delivered: 0, rejected: 0, dead: 1 });

    const reset = await repo.run(['sync', 'reset-clock', '--json']);
    expect(reset.code, reset.stderr).toBe(0);
    expect(JSON.parse(reset.stdout)).toEqual({ restamped: 1, revived: 1, clocks: [{ node_id: machineNodeId(), before: 1_000_001, after: 1 }] });
    const last = await repo.kittyAsync(['sync', 'flush', '--json', '--timeout', '20']);
    expect(last.code, last.stderr).toBe(0);
    expect(counts(repo.env)).toEqual({ pending: 0, delivered: 1, dead: 0 });
    expect(fake.received.get(rejected!.envelope.event_id)!.lamport_clock).toBe(1);
  });

  it("the reference server refuses a clock far beyond its team's; after `kitty sync reset-clock` it takes the event", async () => {
    const server = await startServer();
    const repo = gitdir({ 'README.md': 'x\n' });
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    const queue = EventQueue.open({ env: repo.env });
    queue.receiveClock(machineNodeId(), 50_000_000);
    queue.close();
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    await derive(repo);
    const flush = await repo.kittyAsync(['sync', 'flush', '--json', '--timeout', '20']);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 0, rejected: 1, dead: 1 });
    expect(events(repo, 'dead')[0]!.lastError).toMatch(
      /^rejected by server: lamport_clock 50000001 .*; hint: run `kitty sync reset-clock`, then `kitty sync flush`$/,
    );
    expect((await repo.run(['sync', 'reset-clock'])).stdout).toBe(
      "kitty: this machine's Lamport clock went from 50000001 to 1; 1 unsent events restamped, 1 of them rejected before and pending again; the next flush sends them (`kitty sync flush`)\n",
    );
    const again = await repo.kittyAsync(['sync', 'flush', '--json', '--timeout', '20']);
    expect(again.code, again.stderr).toBe(0);
    expect(counts(repo.env)).toEqual({ pending: 0, delivered: 1, dead: 0 });
    expect(server.events()).toHaveLength(1);
  });
});

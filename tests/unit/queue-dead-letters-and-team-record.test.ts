import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { previousTeam, readTeams, recordTeam } from '../../src/auth/teams.js';
import Database from '../../src/deps/better-sqlite3.js';
import { EventQueue } from '../../src/queue/queue.js';
import { MAX_ENVELOPE_BYTES } from '../../src/transport/limits.js';
import { draft } from '../helpers/events.js';
import { tempDir, testEnv } from '../helpers/gitdir.js';

const PROJECT = '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e';

function withQueue<T>(env: NodeJS.ProcessEnv, fn: (queue: EventQueue) => T): T {
  const queue = EventQueue.open({ env });
  try {
    return fn(queue);
  } finally {
    queue.close();
  }
}

describe('the queue keeps what it cannot send as dead letters, with the reason', () => {
  it('an event over the size limit is stored dead at once, never pending', () => {
    const env = testEnv(tempDir());
    const big = draft('01KB0000000000000000000001', { payload: { ...draft('x').payload, note: 'x'.repeat(MAX_ENVELOPE_BYTES) } });
    const result = withQueue(env, (queue) => queue.enqueue([big, draft('01KB0000000000000000000002')]));
    expect(result.inserted.map((event) => event.event_id)).toEqual(['01KB0000000000000000000002']);
    expect(result.tooLarge).toEqual([{ eventId: '01KB0000000000000000000001', reason: expect.stringContaining(`over the ${MAX_ENVELOPE_BYTES}-byte limit`) }]);
    const dead = withQueue(env, (queue) => queue.list({ state: 'dead' }).events);
    expect(dead.map((event) => [event.envelope.event_id, event.lastError?.split(':')[0]])).toEqual([
      ['01KB0000000000000000000001', 'KITTY_ERR_EVENT_TOO_LARGE'],
    ]);
    expect(withQueue(env, (queue) => queue.counts())).toMatchObject({ pending: 1, dead: 1 });
  });

  it('a rejection without a reason says so; a limited list returns the oldest events first', () => {
    const env = testEnv(tempDir());
    withQueue(env, (queue) => queue.enqueue([draft('01KB0000000000000000000003'), draft('01KB0000000000000000000004'), draft('01KB0000000000000000000005')]));
    const applied = withQueue(env, (queue) => queue.applyResults([{ event_id: '01KB0000000000000000000004', status: 'rejected' }]));
    expect(applied).toEqual({ delivered: 0, dead: 1, clock: null });
    const [dead] = withQueue(env, (queue) => queue.list({ state: 'dead' }).events);
    expect(dead!.lastError).toBe('rejected by server: no reason given');
    expect(withQueue(env, (queue) => queue.list({ state: 'all', limit: 2 }).events.map((event) => event.envelope.event_id))).toEqual([
      '01KB0000000000000000000003',
      '01KB0000000000000000000004',
    ]);
  });

  it('a row whose envelope names another event is quarantined as dead and reported, once', () => {
    const home = tempDir();
    const env = testEnv(home);
    withQueue(env, (queue) => queue.enqueue([draft('01KB0000000000000000000006'), draft('01KB0000000000000000000007')]));
    const db = new Database(join(home, 'queue.db'));
    db.prepare("UPDATE events SET envelope = json_set(envelope, '$.event_id', 'someone-else') WHERE event_id = ?").run('01KB0000000000000000000006');
    db.close();
    const listed = withQueue(env, (queue) => queue.list({ state: 'pending' }));
    expect(listed.events.map((event) => event.envelope.event_id)).toEqual(['01KB0000000000000000000007']);
    expect(listed.quarantined).toEqual([
      { seq: 1, eventId: '01KB0000000000000000000006', error: 'envelope does not match its row (event_id differs or missing)' },
    ]);
    expect(withQueue(env, (queue) => queue.counts())).toMatchObject({ pending: 1, dead: 1 });
  });
});

describe("the record of each project's team", () => {
  it('a teams file that is not an object reads as empty; recording nothing writes nothing', () => {
    const home = tempDir();
    const env = testEnv(home);
    writeFileSync(join(home, 'teams.json'), '["acme"]');
    expect(readTeams(env)).toEqual({});
    recordTeam(env, [], 'acme');
    expect(readFileSync(join(home, 'teams.json'), 'utf8')).toBe('["acme"]');
    recordTeam(env, [PROJECT], 'acme');
    expect(readTeams(env)).toEqual({ [PROJECT]: 'acme' });
  });

  it('recording where the state dir cannot be written does not throw', () => {
    const blocker = join(tempDir(), 'a-file');
    writeFileSync(blocker, 'not a dir');
    const env = testEnv(join(blocker, 'state'));
    expect(() => recordTeam(env, [PROJECT], 'acme')).not.toThrow();
    expect(existsSync(join(blocker, 'state'))).toBe(false);
  });

  it('unrecorded: the replaced login names the team only once an event of the project was delivered', () => {
    const home = tempDir();
    const env = testEnv(home);
    expect(previousTeam(env, PROJECT, 'acme')).toBeNull();
    withQueue(env, (queue) => queue.enqueue([draft('01KB0000000000000000000008')]));
    expect(previousTeam(env, PROJECT, 'acme')).toBeNull();
    withQueue(env, (queue) => queue.applyResults([{ event_id: '01KB0000000000000000000008', status: 'success' }]));
    expect(previousTeam(env, PROJECT, 'acme')).toBe('acme');
    expect(previousTeam(env, PROJECT, null)).toBeNull();
    expect(previousTeam(env, 'another-project', 'acme')).toBeNull();
  });
});

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from '../../src/deps/better-sqlite3.js';
import { hashPassword } from '../../src/server/passwords.js';
import { tempDir } from '../helpers/gitdir.js';
import { call, envelope, type HostileServer, login, newId, openSocket, sendFrame, startHostileServer } from '../helpers/hostile.js';
import { eachStore, psql } from '../helpers/postgres.js';

const PROJECT = '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e';

async function batch(url: string, access: string, events: unknown[]) {
  const answer = await call(url, 'POST', '/api/v1/events/batch/', { body: { events }, token: access });
  expect(answer.status, answer.text).toBe(200);
  return answer.json.results as { event_id: string; status: string; code?: string; error?: string }[];
}

// biome-ignore lint/suspicious/noExplicitAny: an envelope the tests then bend into bad shapes
function move(wp: string, feature: string, lane: string, extra: Record<string, unknown> = {}): Record<string, any> {
  const base = envelope();
  return { ...base, aggregate_id: wp, payload: { ...(base.payload as object), wp_id: wp, feature_slug: feature, to_lane: lane }, ...extra };
}

/** The board table's rows, as either store holds them. */
function boardRows(server: HostileServer): unknown[] {
  if (server.database)
    return psql(server.database, 'SELECT row_to_json(b) FROM (SELECT feature_slug, wp_id, lane FROM board) b').map((line) => JSON.parse(line));
  const db = new Database(join(server.data, 'server.db'), { readonly: true });
  try {
    return db.prepare('SELECT feature_slug, wp_id, lane FROM board').all();
  } finally {
    db.close();
  }
}

describe.each(eachStore())('teams are apart ($name)', (store) => {
  const start = async () => startHostileServer({ database: await store.database() });

  it('the same event_id from two teams is stored once for each; neither answer tells about the other team', async () => {
    const server = await start();
    const acme = await login(server.url, 'demo', 'demo-pass');
    const umbrella = await login(server.url, 'rival', 'rival-pass');
    const shared = envelope();
    expect(await batch(server.url, acme.access, [shared])).toEqual([{ event_id: shared.event_id, status: 'success' }]);
    expect(await batch(server.url, umbrella.access, [shared])).toEqual([{ event_id: shared.event_id, status: 'success' }]);
    expect(await batch(server.url, umbrella.access, [shared])).toEqual([{ event_id: shared.event_id, status: 'duplicate' }]);
    const socket = await openSocket(server.url, acme.access);
    expect((await sendFrame(socket, [shared])).results).toEqual([{ event_id: shared.event_id, status: 'duplicate' }]);
    for (const session of [acme, umbrella]) {
      const events = (await call(server.url, 'GET', `/api/v1/projects/${PROJECT}/events/`, { token: session.access })).json;
      expect(events).toEqual([{ ...shared, team_slug: session.team_slug }]);
    }
  });

  it("frames sent in a row naming another team are refused wrong_team, alone; the frames around them are stored for the caller's team only", async () => {
    const server = await start();
    const acme = await login(server.url, 'demo', 'demo-pass');
    const umbrella = await login(server.url, 'rival', 'rival-pass');
    const [own, foreign, local] = [envelope({ team_slug: 'acme' }), envelope({ team_slug: 'umbrella' }), envelope()];
    const socket = await openSocket(server.url, acme.access);
    for (const event of [own, foreign, local]) socket.ws.send(JSON.stringify({ type: 'events', events: [event] }));
    const answers = [await socket.next(), await socket.next(), await socket.next()];
    expect(answers.map((answer) => [answer.results[0].status, answer.results[0].code])).toEqual([
      ['success', undefined],
      ['rejected', 'wrong_team'],
      ['success', undefined],
    ]);
    const seen = async (access: string) =>
      (await call(server.url, 'GET', `/api/v1/projects/${PROJECT}/events/`, { token: access })).json.map((event: { event_id: string }) => event.event_id);
    expect((await seen(acme.access)).sort()).toEqual([own.event_id, local.event_id].sort());
    expect(await seen(umbrella.access)).toEqual([]);
  });

  it("an after= cursor resolves within the caller team only: another team's id is no position", async () => {
    const server = await start();
    const acme = await login(server.url, 'demo', 'demo-pass');
    const umbrella = await login(server.url, 'rival', 'rival-pass');
    const ours = [envelope(), envelope()];
    await batch(server.url, umbrella.access, [ours[0]]);
    const theirs = Array.from({ length: 3 }, () => envelope());
    await batch(server.url, acme.access, theirs);
    await batch(server.url, umbrella.access, [ours[1]]);
    const page = async (after: string) =>
      (await call(server.url, 'GET', `/api/v1/projects/${PROJECT}/events/?after=${after}`, { token: umbrella.access })).json.map(
        (event: { event_id: string }) => event.event_id,
      );
    const unknown = await page(newId());
    expect(unknown).toEqual(ours.map((event) => event.event_id));
    expect(await page(theirs[2]!.event_id as string)).toEqual(unknown);
    expect(await page(ours[0]!.event_id as string)).toEqual([ours[1]!.event_id]);
  });

  it('Lamport clocks are per team, and a value far past the team clock is rejected with the limit', async () => {
    const server = await start();
    const acme = await login(server.url, 'demo', 'demo-pass');
    const umbrella = await login(server.url, 'rival', 'rival-pass');
    const results = await batch(server.url, acme.access, [
      envelope({ lamport_clock: 40 }),
      envelope({ lamport_clock: Number.MAX_SAFE_INTEGER }),
      envelope({ lamport_clock: 1_000_041 }),
    ]);
    expect(results.map((result) => result.status)).toEqual(['success', 'rejected', 'rejected']);
    expect(results[1]).toMatchObject({
      code: 'lamport_too_far_ahead',
      error: expect.stringContaining("lamport_clock 9007199254740991 is more than 1000000 past team acme's clock 40 (at most 1000040 is accepted)"),
    });
    expect((await batch(server.url, acme.access, [envelope({ lamport_clock: 1_000_040 })]))[0]!.status).toBe('success');
    const ours = await openSocket(server.url, acme.access);
    const theirs = await openSocket(server.url, umbrella.access);
    expect(ours.hello.server_clock).toBe(1_000_040);
    expect(theirs.hello.server_clock).toBe(0);
    const ack = await sendFrame(theirs, [envelope({ lamport_clock: 7 })]);
    expect(ack.server_clock).toBe(7);
  });

  it('the board holds features named like Object.prototype members, each as its own key', async () => {
    const server = await start();
    const { access } = await login(server.url);
    const features = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '001-real'];
    await batch(
      server.url,
      access,
      features.map((feature) => move('WP01', feature, 'doing')),
    );
    await batch(server.url, access, [move('WP02', '001-real', 'done'), move('WP01', '__proto__', 'done')]);
    const answer = await call(server.url, 'GET', `/api/v1/projects/${PROJECT}/board/`, { token: access });
    const board = answer.json.features as Record<string, Record<string, { lane: string }>>;
    expect(Object.keys(board).sort()).toEqual([...features].sort());
    expect(Object.hasOwn(board, '__proto__')).toBe(true);
    // biome-ignore lint/suspicious/noProto: a feature named __proto__ must be an ordinary key
    expect(board.__proto__!.WP01!.lane).toBe('done');
    expect(board['001-real']).toEqual({ WP01: expect.objectContaining({ lane: 'doing' }), WP02: expect.objectContaining({ lane: 'done' }) });
    expect(board.constructor).toEqual({ WP01: expect.objectContaining({ lane: 'doing' }) });
  });

  it('the board is kept as events arrive, in (timestamp, lamport, node, id) order: a late older event never moves a card back', async () => {
    const server = await start();
    const { access } = await login(server.url);
    const at = (iso: string, lane: string, lamport: number, node = 'abcdefabcdef') =>
      move('WP01', 'f', lane, { timestamp: iso, lamport_clock: lamport, node_id: node });
    const newest = at('2026-01-02T00:00:00.000000002Z', 'done', 3);
    await batch(server.url, access, [newest, at('2026-01-02T00:00:00.000000001Z', 'doing', 5), at('2026-01-01T00:00:00Z', 'planned', 9)]);
    const tie = at('2026-01-02T00:00:00.000000002Z', 'for_review', 3, 'ffffffffffff');
    const board = async () => (await call(server.url, 'GET', `/api/v1/projects/${PROJECT}/board/`, { token: access })).json.features.f.WP01;
    expect(await board()).toEqual({ lane: 'done', last_event_id: newest.event_id, updated_at: newest.timestamp });
    await batch(server.url, access, [tie]);
    expect(await board()).toMatchObject({ lane: 'for_review', last_event_id: tie.event_id });
    expect(boardRows(server)).toEqual([{ feature_slug: 'f', wp_id: 'WP01', lane: 'for_review' }]);
  });

  it("the project list names a project after its latest event's slug, whatever order the events arrive in (a renamed repository shows its new name)", async () => {
    const server = await start();
    const { access } = await login(server.url);
    const at = (iso: string, slug: string | null) => move('WP01', 'f', 'doing', { timestamp: iso, project_slug: slug });
    const slug = async () => (await call(server.url, 'GET', '/api/v1/projects/', { token: access })).json[0].project_slug;
    // one send: the latest of its events names the project, not the greatest name
    await batch(server.url, access, [at('2026-01-01T00:00:00Z', 'zeta-old'), at('2026-01-03T00:00:00Z', 'alpha-new'), at('2026-01-02T00:00:00Z', 'mid')]);
    expect(await slug()).toBe('alpha-new');
    // older events arriving later, and one with no slug, change nothing
    await batch(server.url, access, [at('2026-01-02T12:00:00Z', 'zzz-older')]);
    await batch(server.url, access, [at('2026-01-04T00:00:00Z', null)]);
    expect(await slug()).toBe('alpha-new');
    // an event that names no slug hides none: a slug from between it and the last named one still renames the project
    await batch(server.url, access, [at('2026-01-03T12:00:00Z', 'gamma')]);
    expect(await slug()).toBe('gamma');
    // a later event renames it; of two at one time, the greater name wins
    await batch(server.url, access, [at('2026-01-05T00:00:00Z', 'beta')]);
    expect(await slug()).toBe('beta');
    await batch(server.url, access, [at('2026-01-05T00:00:00Z', 'alpha')]);
    expect(await slug()).toBe('beta');
  });
});

/** The first release's schema, as its server.db files hold it. */
const VERSION_0 = `
  CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL UNIQUE, team_slug TEXT NOT NULL, password_hash TEXT NOT NULL, created_at TEXT NOT NULL);
  CREATE TABLE tokens (hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), kind TEXT NOT NULL, expires_at INTEGER NOT NULL);
  CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, team_slug TEXT NOT NULL, project_uuid TEXT NOT NULL,
    project_slug TEXT, event_type TEXT NOT NULL, timestamp TEXT NOT NULL, lamport_clock INTEGER NOT NULL, node_id TEXT NOT NULL, envelope TEXT NOT NULL, received_at TEXT NOT NULL);
  CREATE INDEX events_project ON events(team_slug, project_uuid, seq);`;

describe('an existing server.db', () => {
  it('keeps a slug an older kitty wrote without its time against older events, and takes a newer one', async () => {
    const data = tempDir('kitty-server-');
    const first = await startHostileServer({ data });
    const { access } = await login(first.url);
    const at = (timestamp: string, slug: string) => move('WP01', 'f', 'doing', { timestamp, project_slug: slug });
    await batch(first.url, access, [at('2026-01-02T00:00:00Z', 'current')]);
    await first.stop();
    const db = new Database(join(data, 'server.db'));
    db.prepare('UPDATE projects SET slug_ts_key = NULL').run();
    db.close();
    const server = await startHostileServer({ data });
    const slug = async () => (await call(server.url, 'GET', '/api/v1/projects/', { token: access })).json[0].project_slug;
    await batch(server.url, access, [at('2026-01-01T00:00:00Z', 'older')]);
    expect(await slug()).toBe('current');
    await batch(server.url, access, [at('2026-01-03T00:00:00Z', 'newer')]);
    expect(await slug()).toBe('newer');
  });

  it('is migrated to the exact slug rule: the latest event that names a slug names the project, though one naming none came later', async () => {
    const data = tempDir('kitty-server-');
    const db = new Database(join(data, 'server.db'));
    db.exec(VERSION_0);
    const insert =
      db.prepare(`INSERT INTO events (event_id, team_slug, project_uuid, project_slug, event_type, timestamp, lamport_clock, node_id, envelope, received_at)
      VALUES (?, 'acme', ?, ?, 'WPStatusChanged', ?, 1, 'abcdefabcdef', ?, '2026-01-01T00:00:00Z')`);
    // in this order version 1's rule kept "old": the event with no slug hid the later "new"
    for (const [timestamp, slug] of [
      ['2026-01-01T00:00:00Z', 'old'],
      ['2026-01-03T00:00:00Z', null],
      ['2026-01-02T00:00:00Z', 'new'],
    ] as const) {
      const event = move('WP01', 'f', 'doing', { timestamp, project_slug: slug, team_slug: 'acme' });
      insert.run(event.event_id, PROJECT, slug, timestamp, JSON.stringify(event));
    }
    db.close();
    const server = await startHostileServer({ data });
    const { access } = await login(server.url);
    expect((await call(server.url, 'GET', '/api/v1/projects/', { token: access })).json).toEqual([
      { project_uuid: PROJECT, project_slug: 'new', event_count: 3, last_event_at: '2026-01-03T00:00:00Z' },
    ]);
  });

  it('is migrated in place: events, users and sessions kept, board and team-scoped ids added, version recorded', async () => {
    const data = tempDir('kitty-server-');
    const db = new Database(join(data, 'server.db'));
    db.pragma('journal_mode = WAL');
    db.exec(VERSION_0);
    db.prepare("INSERT INTO users (username, team_slug, password_hash, created_at) VALUES ('old', 'acme', ?, '2026-01-01T00:00:00Z')").run(
      hashPassword('old-pass'),
    );
    const [access, refresh] = ['old-access-token', 'old-refresh-token'];
    const sha = (token: string) => createHash('sha256').update(token).digest('hex');
    db.prepare('INSERT INTO tokens VALUES (?, 1, ?, ?)').run(sha(access), 'access', Date.now() + 3600_000);
    db.prepare('INSERT INTO tokens VALUES (?, 1, ?, ?)').run(sha(refresh), 'refresh', Date.now() + 3600_000);
    const insert =
      db.prepare(`INSERT INTO events (event_id, team_slug, project_uuid, project_slug, event_type, timestamp, lamport_clock, node_id, envelope, received_at)
      VALUES (?, 'acme', ?, 'demo', 'WPStatusChanged', ?, ?, 'abcdefabcdef', ?, '2026-01-01T00:00:00Z')`);
    const kept = [
      move('WP01', 'f', 'planned', { timestamp: '2026-01-01T00:00:00Z', lamport_clock: 1 }),
      move('WP01', 'f', 'doing', { timestamp: '2026-01-02T00:00:00Z', lamport_clock: 2 }),
    ];
    for (const event of kept) insert.run(event.event_id, PROJECT, event.timestamp, event.lamport_clock, JSON.stringify({ ...event, team_slug: 'acme' }));
    db.close();

    const server = await startHostileServer({ data });
    const check = new Database(join(data, 'server.db'), { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(2);
    } finally {
      check.close();
    }
    const events = (await call(server.url, 'GET', `/api/v1/projects/${PROJECT}/events/`, { token: access })).json;
    expect(events.map((event: { event_id: string }) => event.event_id)).toEqual(kept.map((event) => event.event_id));
    const board = (await call(server.url, 'GET', `/api/v1/projects/${PROJECT}/board/`, { token: access })).json;
    expect(board.features.f.WP01).toMatchObject({ lane: 'doing', last_event_id: kept[1]!.event_id });
    expect((await call(server.url, 'GET', '/api/v1/projects/', { token: access })).json).toEqual([
      { project_uuid: PROJECT, project_slug: 'demo', event_count: 2, last_event_at: '2026-01-02T00:00:00Z' },
    ]);
    expect((await openSocket(server.url, access)).hello.server_clock).toBe(2);
    await login(server.url, 'old', 'old-pass');
    const umbrella = await login(server.url, 'rival', 'rival-pass');
    expect(await batch(server.url, umbrella.access, [kept[0]])).toEqual([{ event_id: kept[0]!.event_id, status: 'success' }]);
    expect((await call(server.url, 'POST', '/api/v1/token/revoke/', { body: { refresh } })).status).toBe(200);
    expect((await call(server.url, 'GET', '/api/v1/projects/', { token: access })).status).toBe(401);

    await server.stop();
    const again = await startHostileServer({ data });
    expect((await call(again.url, 'GET', `/api/v1/projects/${PROJECT}/events/`, { token: umbrella.access })).json).toHaveLength(1);
  });
});

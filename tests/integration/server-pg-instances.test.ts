import { spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { ROOT, runKittyAsync, tempDir, testEnv } from '../helpers/gitdir.js';
import { call, envelope, liveStream, login, openSocket, within } from '../helpers/hostile.js';
import { type PostgresCluster, startPostgres } from '../helpers/postgres.js';
import { login as loginCli, startServer, type TestServer } from '../helpers/server.js';
import { counts } from '../helpers/sync.js';

const PROJECT = '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e';

let cluster: PostgresCluster;
beforeAll(async () => {
  cluster = await startPostgres();
});
afterAll(() => cluster.stop());

/** Two `kitty server` processes on one fresh database. */
async function twoInstances(): Promise<{ database: string; a: TestServer; b: TestServer }> {
  const database = await cluster.createDatabase();
  const users = ['demo:demo-pass:acme', 'rival:rival-pass:umbrella'];
  const [a, b] = await Promise.all([startServer({ database, users }), startServer({ database, users })]);
  return { database, a: a!, b: b! };
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The status a WebSocket upgrade with this ws token is answered with. */
function upgrade(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws/v1/events/`, { headers: { authorization: `Bearer ${token}` } });
    ws.once('upgrade', () => resolve(101));
    ws.once('open', () => ws.terminate());
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

describe('several instances on one database', () => {
  it('a session from one instance works on the other; a ws token is single use across both; revoking on one closes the socket open on the other', async () => {
    const { a, b } = await twoInstances();
    const session = await login(a.url);
    expect((await call(b.url, 'GET', '/api/v1/projects/', { token: session.access })).status).toBe(200);
    const token = (await call(a.url, 'POST', '/api/v1/ws-token/', { token: session.access })).json.ws_token as string;
    expect(await upgrade(b.url, token)).toBe(101);
    expect(await upgrade(a.url, token)).toBe(401);

    const onB = await openSocket(b.url, session.access);
    const refreshed = (await call(b.url, 'POST', '/api/v1/token/refresh/', { body: { refresh: session.refresh } })).json;
    expect((await call(a.url, 'POST', '/api/v1/token/revoke/', { body: { refresh: refreshed.refresh } })).status).toBe(200);
    expect(await onB.closed).toBe(4001);
    expect((await call(b.url, 'GET', '/api/v1/projects/', { token: refreshed.access })).status).toBe(401);
  });

  it("an event stored through one instance reaches a dashboard stream open on the other, and the other team's stream hears nothing", async () => {
    const { a, b } = await twoInstances();
    const acme = await login(a.url);
    const rival = await login(b.url, 'rival', 'rival-pass');
    const ours = await liveStream(b.url, acme.access, PROJECT);
    const theirs = await liveStream(b.url, rival.access, PROJECT);
    expect((await call(a.url, 'POST', '/api/v1/events/batch/', { body: { events: [envelope()] }, token: acme.access })).status).toBe(200);
    // a guard, not a measurement: the change is pushed, so it comes in milliseconds or not at all
    expect(await within(ours.changed, 5_000)).toBe(true);
    await call(b.url, 'POST', '/api/v1/events/batch/', { body: { events: [envelope()] }, token: rival.access });
    expect(await within(theirs.changed, 5_000)).toBe(true);
    // one change each: a team hears only its own events of a project uuid both teams use
    expect([ours.changes(), theirs.changes()]).toEqual([1, 1]);
  });

  it('the same events sent to both instances at the same moment are stored once: each id is a success on exactly one of them', async () => {
    const { database, a, b } = await twoInstances();
    const [onA, onB] = await Promise.all([login(a.url), login(b.url)]);
    const rounds = Array.from({ length: 10 }, () => Array.from({ length: 200 }, () => envelope()));
    for (const events of rounds) {
      const answers = await Promise.all(
        [a, b].map((server, i) => call(server.url, 'POST', '/api/v1/events/batch/', { body: { events }, token: [onA, onB][i]!.access })),
      );
      const successes = answers.flatMap((answer) => answer.json.results as { status: string }[]).filter((result) => result.status === 'success');
      expect(successes).toHaveLength(events.length);
    }
    expect(await query(database, 'SELECT COUNT(*)::int AS n FROM events')).toEqual([{ n: 2_000 }]);
    expect(await query(database, "SELECT event_count::int AS n FROM projects WHERE team_slug = 'acme'")).toEqual([{ n: 2_000 }]);
  });
});

/**
 * A loopback TCP balancer: each connection goes to the next backend in turn, and to the one after
 * when a backend refuses (it was killed); the backends can change while it runs.
 */
async function balancer(backends: number[]): Promise<{ url: string }> {
  let turn = 0;
  const open = new Set<Socket>();
  const track = (socket: Socket): Socket => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    return socket.on('error', () => socket.destroy());
  };
  const forward = (client: Socket, tries: number): void => {
    if (tries >= backends.length) return void client.destroy();
    const upstream = connect(backends[turn++ % backends.length]!, '127.0.0.1');
    const refused = (): void => forward(client, tries + 1);
    upstream.once('error', refused);
    upstream.once('connect', () => {
      upstream.off('error', refused);
      track(upstream);
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
  };
  const server = createServer((client) => forward(track(client), 0));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    for (const socket of open) socket.destroy();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** `count` events queued in a fresh client state dir, as a hook worker queues them (tests/helpers/enqueue-worker.mjs). */
function queueEvents(home: string, count: number, node: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'tests/helpers/enqueue-worker.mjs'), String(count), 'shared', node], {
      env: testEnv(home),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`enqueue-worker exited ${code}: ${stderr}`))));
  });
}

type Card = { feature_slug: string; wp_id: string; lane: string; last_event_id: string };
type Row = { event_id: string; ts_key: string; lamport_clock: number; node_id: string; feature_slug: string; wp_id: string; lane: string };

/** The board the events imply: per WP, the latest event in (timestamp, lamport_clock, node_id, event_id) order. */
function expectedBoard(rows: Row[]): Card[] {
  const later = (x: Row, y: Row): boolean =>
    x.ts_key !== y.ts_key
      ? x.ts_key > y.ts_key
      : x.lamport_clock !== y.lamport_clock
        ? x.lamport_clock > y.lamport_clock
        : x.node_id !== y.node_id
          ? x.node_id > y.node_id
          : x.event_id > y.event_id;
  const latest = new Map<string, Row>();
  for (const row of rows) {
    const key = `${row.feature_slug}/${row.wp_id}`;
    const current = latest.get(key);
    if (!current || later(row, current)) latest.set(key, row);
  }
  return [...latest.values()]
    .map((row) => ({ feature_slug: row.feature_slug, wp_id: row.wp_id, lane: row.lane, last_event_id: row.event_id }))
    .sort((x, y) => `${x.feature_slug}/${x.wp_id}`.localeCompare(`${y.feature_slug}/${y.wp_id}`));
}

describe('an instance killed while clients flush', () => {
  it('4 clients flush 5,000 events each through a balancer over 2 instances; one is SIGKILLed mid-run and restarted: every event stored exactly once, the board right', async () => {
    const { database, a, b } = await twoInstances();
    const backends = [a.port, b.port];
    const { url } = await balancer(backends);
    const clients = ['a1a1a1a1a1a1', 'b2b2b2b2b2b2', 'c3c3c3c3c3c3', 'd4d4d4d4d4d4'].map((node) => ({ node, home: tempDir(), cwd: tempDir() }));
    await Promise.all(clients.map((client) => queueEvents(client.home, 5_000, client.node)));
    for (const client of clients) expect((await loginCli(url, client.cwd, testEnv(client.home))).code).toBe(0);

    const flushes = clients.map((client) => runKittyAsync(['sync', 'flush', '--timeout', '120'], client.cwd, testEnv(client.home)));
    let storedAtKill = 0;
    const storedNow = async (): Promise<number> => (await query<{ n: number }>(database, 'SELECT COUNT(*)::int AS n FROM events'))[0]!.n;
    for (storedAtKill = await storedNow(); storedAtKill < 3_000; storedAtKill = await storedNow()) await new Promise((settle) => setTimeout(settle, 20));
    a.process.kill('SIGKILL');
    const restarted = await startServer({ database, users: [] });
    backends[0] = restarted.port;

    for (const result of await Promise.all(flushes)) expect(result.code, result.stderr).toBe(0);
    expect(storedAtKill, 'the kill came after the flush: nothing was tested').toBeLessThan(20_000);
    for (const client of clients) expect(counts(testEnv(client.home))).toMatchObject({ pending: 0, dead: 0 });
    expect(await query(database, 'SELECT COUNT(*)::int AS n, COUNT(DISTINCT event_id)::int AS ids FROM events')).toEqual([{ n: 20_000, ids: 20_000 }]);
    expect(await query(database, 'SELECT event_count::int AS n FROM projects')).toEqual([{ n: 20_000 }]);

    const rows = await query<Row>(
      database,
      // the clients stamp every timestamp in one format (toISOString), so it sorts as its key does
      `SELECT event_id, timestamp AS ts_key, lamport_clock::int, node_id, envelope::json->'payload'->>'feature_slug' AS feature_slug,
         envelope::json->'payload'->>'wp_id' AS wp_id, envelope::json->'payload'->>'to_lane' AS lane FROM events`,
    );
    const board = await query<Card>(database, 'SELECT feature_slug, wp_id, lane, last_event_id FROM board ORDER BY feature_slug, wp_id');
    expect(board).toEqual(expectedBoard(rows));
    const served = (await call(b.url, 'GET', `/api/v1/projects/${PROJECT}/board/`, { token: (await login(restarted.url)).access })).json.features[
      'feature-shared'
    ];
    expect(Object.keys(served)).toHaveLength(90);
  });
});

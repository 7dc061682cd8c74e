import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { call, envelope, login, openSocket, sendFrame } from '../helpers/hostile.js';
import { serverInProcess } from '../helpers/server.js';

/** The status line an upgrade request got, or 'open' when the server took the WebSocket. */
function upgrade(url: string, path: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}${path}`, { headers, perMessageDeflate: false });
    ws.on('error', () => undefined);
    ws.once('open', () => {
      ws.terminate();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(`${res.statusCode}`);
      res.destroy();
    });
  });
}

describe('the server started in-process with its defaults', () => {
  it('listens on an IPv6 loopback and names it in brackets; a login there gets tokens for the default lifetimes', async () => {
    const server = await serverInProcess({ host: '::1' });
    expect(server.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    const answer = await fetch(`${server.url}/api/v1/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'demo', password: 'demo-pass' }),
    });
    expect(answer.status).toBe(200);
    const tokens = (await answer.json()) as { access_lifetime: number; refresh_lifetime: number; team_slug: string };
    expect([tokens.access_lifetime, tokens.refresh_lifetime, tokens.team_slug]).toEqual([900, 7 * 24 * 3600, 'acme']);
  });

  it('started without users, it refuses every login 401 login_failed', async () => {
    const server = await serverInProcess({ users: [] });
    const answer = await call(server.url, 'POST', '/api/v1/token/', { body: { username: 'demo', password: 'demo-pass' } });
    expect([answer.status, answer.json]).toEqual([401, { error: 'wrong username or password', code: 'login_failed' }]);
  });

  it('a port already taken fails the start with EADDRINUSE, and the first server keeps answering', async () => {
    const first = await serverInProcess();
    const port = Number(new URL(first.url).port);
    await expect(serverInProcess({ port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect((await call(first.url, 'GET', '/api/health/')).status).toBe(200);
  });

  it('a store that fails under a request answers 500 internal_error and logs the path', async () => {
    const lines: string[] = [];
    const server = await serverInProcess({ log: (line) => lines.push(line) });
    const session = await login(server.url);
    await server.store.close();
    const answer = await call(server.url, 'POST', '/api/v1/ws-token/', { token: session.access });
    expect([answer.status, answer.json]).toEqual([500, { error: 'internal server error', code: 'internal_error' }]);
    expect(lines.some((line) => line.startsWith('internal error on POST /api/v1/ws-token/: '))).toBe(true);
  });

  it('a token body over its limit is refused 413 body_too_large and the connection is closed after the answer', async () => {
    const server = await serverInProcess();
    const answer = await call(server.url, 'POST', '/api/v1/token/', { body: { username: 'demo', password: 'x'.repeat(5000) } });
    expect(answer.status).toBe(413);
    expect(answer.json.code).toBe('body_too_large');
    expect(answer.headers.connection).toBe('close');
  });
});

describe('logins, refreshes and revocations refuse malformed bodies', () => {
  it('a login body that is not an object, or a username past 256 characters, is 400 bad_request', async () => {
    const server = await serverInProcess();
    for (const body of [['demo', 'demo-pass'], 'demo', { username: 'u'.repeat(257), password: 'demo-pass' }, { username: 'demo', password: 7 }]) {
      const answer = await call(server.url, 'POST', '/api/v1/token/', { body });
      expect([answer.status, answer.json.code]).toEqual([400, 'bad_request']);
    }
  });

  it('with no password checks free, a login is answered 503 server_busy with Retry-After, and counts no failure', async () => {
    const server = await serverInProcess({ limits: { passwordChecks: 0, passwordQueue: 0 } });
    for (let i = 0; i < 7; i++) {
      const answer = await call(server.url, 'POST', '/api/v1/token/', { body: { username: 'demo', password: 'wrong' } });
      // past five counted failures the user would be backing off (429); an unchecked login is no failure
      expect([answer.status, answer.json.code, answer.headers['retry-after']]).toEqual([503, 'server_busy', '1']);
    }
  });

  it('a refresh without a token is 401 refresh_invalid; a revoke without one is 400; revoking a session with no socket open succeeds', async () => {
    const server = await serverInProcess();
    const refresh = await call(server.url, 'POST', '/api/v1/token/refresh/', { body: {} });
    expect([refresh.status, refresh.json.code]).toEqual([401, 'refresh_invalid']);
    const revoke = await call(server.url, 'POST', '/api/v1/token/revoke/', { body: { refresh: '' } });
    expect([revoke.status, revoke.json.code]).toEqual([400, 'bad_request']);
    const session = await login(server.url);
    const revoked = await call(server.url, 'POST', '/api/v1/token/revoke/', { body: { refresh: session.refresh } });
    expect([revoked.status, revoked.json]).toEqual([200, { status: 'revoked' }]);
    const after = await call(server.url, 'POST', '/api/v1/token/refresh/', { body: { refresh: session.refresh } });
    expect([after.status, after.json.code]).toEqual([401, 'refresh_invalid']);
  });
});

describe('the event WebSocket', () => {
  it('an upgrade to another path is 404, one without a token is 401', async () => {
    const server = await serverInProcess();
    expect(await upgrade(server.url, '/ws/v1/other/', { authorization: 'Bearer x' })).toBe('404');
    expect(await upgrade(server.url, '/ws/v1/events/')).toBe('401');
    expect(await upgrade(server.url, '/ws/v1/events/', { authorization: 'Basic x' })).toBe('401');
  });

  it('answers a binary frame, a frame that is not JSON, an unknown message and an oversized frame with their error codes; a pong gets no answer', async () => {
    const server = await serverInProcess({ limits: { frameEvents: 2 } });
    const socket = await openSocket(server.url, (await login(server.url)).access);
    socket.ws.send(Buffer.from('{"type":"events","events":[]}'), { binary: true });
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'frame_binary' });
    socket.ws.send('{not json');
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'frame_not_json' });
    socket.ws.send(JSON.stringify({ type: 'pong' }));
    socket.ws.send(JSON.stringify({ type: 'events', events: 'none' }));
    // frames are answered in order: had the pong been answered, that answer would come first
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'frame_unknown' });
    socket.ws.send('null');
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'frame_unknown' });
    const three = [envelope(), envelope(), envelope()];
    expect(await sendFrame(socket, three)).toEqual({
      type: 'error',
      code: 'frame_too_many_events',
      error: 'at most 2 events per frame, got 3; nothing in it was stored',
    });
    const ack = await sendFrame(socket, three.slice(0, 2));
    expect(ack.type).toBe('ack');
    expect(ack.results.map((result: { status: string }) => result.status)).toEqual(['success', 'success']);
  });

  it('frames sent without waiting for acks are all answered, in the order they came', async () => {
    const server = await serverInProcess();
    const socket = await openSocket(server.url, (await login(server.url)).access);
    const sent = Array.from({ length: 8 }, () => envelope());
    for (const event of sent) socket.ws.send(JSON.stringify({ type: 'events', events: [event] }));
    const acked: string[] = [];
    for (let i = 0; i < sent.length; i++) {
      const ack = await socket.next();
      expect(ack.type).toBe('ack');
      acked.push(ack.results[0].event_id);
    }
    expect(acked).toEqual(sent.map((event) => event.event_id));
  });

  it('a client that resets its connection with frames waiting leaves the server serving; sent again, each event is stored once', async () => {
    const server = await serverInProcess();
    const { access } = await login(server.url);
    const sent = Array.from({ length: 6 }, () => envelope());
    const first = await openSocket(server.url, access);
    for (const event of sent) first.ws.send(JSON.stringify({ type: 'events', events: [event] }));
    (first.ws as unknown as { _socket: import('node:net').Socket })._socket.resetAndDestroy();
    const again = await openSocket(server.url, access);
    const statuses = (await sendFrame(again, sent)).results.map((result: { status: string }) => result.status);
    // whatever the first socket got stored before the reset is a duplicate now, the rest a success
    expect(statuses.every((status: string) => status === 'success' || status === 'duplicate')).toBe(true);
    const stored = await server.store.eventsAfter('acme', sent[0]!.project_uuid as string, null, 100, 1 << 20);
    expect(stored.events.map((text) => (JSON.parse(text) as { event_id: string }).event_id).sort()).toEqual(sent.map((event) => event.event_id).sort());
    expect((await call(server.url, 'GET', '/api/health/')).status).toBe(200);
  });

  it('frames sent in a row are answered each on its own, in order: an id a later frame repeats is its duplicate, a bad frame between gets its error, clocks follow each frame', async () => {
    const server = await serverInProcess();
    const socket = await openSocket(server.url, (await login(server.url)).access);
    const [a, b, c] = [envelope({ lamport_clock: 5 }), envelope({ lamport_clock: 7 }), envelope({ lamport_clock: 9 })];
    socket.ws.send(JSON.stringify({ type: 'events', events: [a, b] }));
    socket.ws.send('{not json');
    socket.ws.send(JSON.stringify({ type: 'events', events: [b, c] }));
    socket.ws.send(JSON.stringify({ type: 'events', events: [a] }));
    const answers = [await socket.next(), await socket.next(), await socket.next(), await socket.next()];
    expect(answers.map((answer) => (answer.type === 'ack' ? answer.results.map((result: { status: string }) => result.status) : answer.code))).toEqual([
      ['success', 'success'],
      'frame_not_json',
      ['duplicate', 'success'],
      ['duplicate'],
    ]);
    expect(answers[0].results.map((result: { event_id: string }) => result.event_id)).toEqual([a.event_id, b.event_id]);
    expect([answers[0].server_clock, answers[2].server_clock, answers[3].server_clock]).toEqual([7, 9, 9]);
  });

  it('frames sent in a row: one the store fails on is answered internal_error alone, the frames around it are stored', async () => {
    const server = await serverInProcess({ log: () => undefined });
    const [before, poisoned, after] = [envelope(), envelope(), envelope()];
    const ingest = server.store.ingest.bind(server.store);
    // the real store, failing on one event (as a database error would): stored together, the frames fail together first
    server.store.ingest = (team, events) =>
      events.some((event) => event.envelope.event_id === poisoned.event_id) ? Promise.reject(new Error('disk I/O error')) : ingest(team, events);
    const socket = await openSocket(server.url, (await login(server.url)).access);
    for (const event of [before, poisoned, after]) socket.ws.send(JSON.stringify({ type: 'events', events: [event] }));
    const answers = [await socket.next(), await socket.next(), await socket.next()];
    expect(answers.map((answer) => (answer.type === 'ack' ? answer.results[0].status : answer.code))).toEqual(['success', 'internal_error', 'success']);
    const stored = await server.store.eventsAfter('acme', before.project_uuid as string, null, 10, 1 << 20);
    expect(stored.events.map((text) => (JSON.parse(text) as { event_id: string }).event_id).sort()).toEqual([before.event_id, after.event_id].sort());
  });

  it('a frame the store fails on is answered internal_error and logged; the socket stays open', async () => {
    const lines: string[] = [];
    const server = await serverInProcess({ log: (line) => lines.push(line) });
    const socket = await openSocket(server.url, (await login(server.url)).access);
    await server.store.close();
    expect(await sendFrame(socket, [envelope()])).toEqual({ type: 'error', code: 'internal_error', error: 'internal server error' });
    expect(lines.some((line) => line.startsWith('internal error on a websocket frame: '))).toBe(true);
    expect(socket.ws.readyState).toBe(WebSocket.OPEN);
  });
});

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Envelope } from '../../src/events/envelope.js';
import { type BatchLimits, sendBatch } from '../../src/transport/http-batch.js';
import { MAX_FRAME_BYTES, MAX_FRAME_EVENTS } from '../../src/transport/limits.js';
import type { EventResult } from '../../src/transport/types.js';
import { deadAfterMs, FRAME_OVERHEAD_BYTES, WsSession } from '../../src/transport/ws-session.js';
import { draft } from '../helpers/events.js';
import { closedPort } from '../helpers/net.js';

async function listen(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface WsScript {
  /** Answer the upgrade with this HTTP status instead of accepting it. */
  refuse?: number;
  /** What the server does with an accepted connection (default: hello with clock 7). */
  connected?: (ws: WebSocket) => void;
}

/** A WebSocket server on 127.0.0.1 doing what the test says; it records the authorization headers and the messages it got. */
async function wsServer(script: WsScript): Promise<{ url: string; authorizations: (string | undefined)[]; messages: string[] }> {
  const authorizations: (string | undefined)[] = [];
  const messages: string[] = [];
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    authorizations.push(req.headers.authorization);
    socket.on('error', () => undefined);
    if (script.refuse) return void socket.end(`HTTP/1.1 ${script.refuse} No\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => undefined);
      ws.on('message', (data: Buffer) => messages.push(data.toString('utf8')));
      (script.connected ?? ((client) => client.send('{"type":"hello","server_clock":7}')))(ws);
    });
  });
  const url = await listen(server);
  onTestFinished(() => {
    for (const client of wss.clients) client.terminate();
  });
  return { url, authorizations, messages };
}

/** Handlers that record what the session reports. */
function recorder() {
  const acks: { results: EventResult[]; clock: number | null }[] = [];
  const closes: { reason: string; code: number | undefined }[] = [];
  return {
    acks,
    closes,
    handlers: {
      onAck: (results: EventResult[], clock: number | null) => acks.push({ results, clock }),
      onClose: (reason: string, code?: number) => closes.push({ reason, code }),
    },
  };
}

async function until(done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const connectError = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the connect should fail'),
    (error: unknown) => error,
  );

describe('WsSession', () => {
  it('reads the dead-after setting: an integer of at least 1,000 ms, else 30 s', () => {
    expect(deadAfterMs({})).toBe(30_000);
    expect(deadAfterMs({ KITTY_WS_DEAD_AFTER_MS: '1500' })).toBe(1500);
    expect(deadAfterMs({ KITTY_WS_DEAD_AFTER_MS: '1000' })).toBe(1000);
    for (const value of ['999', '1500.5', 'soon', '']) expect(deadAfterMs({ KITTY_WS_DEAD_AFTER_MS: value })).toBe(30_000);
  });

  it('opens at the hello with its clock, sends the token, answers pings, reports acks and ignores what is no JSON', async () => {
    const server = await wsServer({
      connected: (ws) => {
        ws.send('{"type":"hello","server_clock":7}');
        ws.send('not json');
        ws.send('{"type":"ping"}');
        ws.send('{"type":"ack","results":[{"event_id":"E1","status":"success"}],"server_clock":9}');
        ws.send('{"type":"ack","results":"nope"}');
      },
    });
    const seen = recorder();
    const session = await WsSession.connect(server.url, 'ws-token', seen.handlers);
    expect(session.serverClock).toBe(7);
    expect(session.open).toBe(true);
    await until(() => seen.acks.length === 2 && server.messages.length === 1);
    expect(seen.acks).toEqual([
      { results: [{ event_id: 'E1', status: 'success' }], clock: 9 },
      { results: [], clock: null },
    ]);
    expect(server.messages).toEqual(['{"type":"pong"}']);
    expect(server.authorizations).toEqual(['Bearer ws-token']);
    session.close();
    session.close('again');
    expect(session.open).toBe(false);
    expect(seen.closes).toEqual([{ reason: 'closed by client', code: undefined }]);
  });

  it('sends a frame as the events joined, and refuses one over the limits', async () => {
    const server = await wsServer({ connected: (ws) => ws.send('{"type":"hello"}') });
    const session = await WsSession.connect(server.url, 't', recorder().handlers);
    expect(session.serverClock).toBeNull();
    const events = [
      { json: '{"a":1}', bytes: 7 },
      { json: '{"b":"é"}', bytes: 10 },
    ];
    session.send(events);
    session.send([]);
    await until(() => server.messages.length === 2);
    expect(server.messages).toEqual(['{"type":"events","events":[{"a":1},{"b":"é"}]}', '{"type":"events","events":[]}']);
    expect(FRAME_OVERHEAD_BYTES).toBe(Buffer.byteLength('{"type":"events","events":[]}'));

    const many = Array.from({ length: MAX_FRAME_EVENTS + 1 }, () => ({ json: '1', bytes: 1 }));
    expect(() => session.send(many)).toThrow(
      `refusing to send a frame of ${MAX_FRAME_EVENTS + 1} events and ${FRAME_OVERHEAD_BYTES + 2 * MAX_FRAME_EVENTS + 1} bytes, over the limits`,
    );
    const fits = MAX_FRAME_BYTES - FRAME_OVERHEAD_BYTES;
    expect(() => session.send([{ json: 'x', bytes: fits + 1 }])).toThrow(/^refusing to send a frame of 1 events and 1048577 bytes/);
    session.close();
    // a closed session sends nothing, and does not throw
    session.send(events);
    await sleep(50);
    expect(server.messages).toHaveLength(2);
  });

  it('closes on a server error message, naming it', async () => {
    for (const [message, reason] of [
      ['{"type":"error","error":"frame too large"}', 'server error: frame too large'],
      ['{"type":"error"}', 'server error: unknown'],
    ]) {
      const server = await wsServer({
        connected: (ws) => {
          ws.send('{"type":"hello","server_clock":1}');
          setTimeout(() => ws.send(message!), 20);
        },
      });
      const seen = recorder();
      const session = await WsSession.connect(server.url, 't', seen.handlers);
      await until(() => seen.closes.length > 0);
      expect(seen.closes).toEqual([{ reason, code: undefined }]);
      expect(session.open).toBe(false);
    }
  });

  it('reports the close code and reason when the server closes an open session', async () => {
    const server = await wsServer({
      connected: (ws) => {
        ws.send('{"type":"hello"}');
        setTimeout(() => ws.close(4001, 'revoked elsewhere'), 20);
      },
    });
    const seen = recorder();
    await WsSession.connect(server.url, 't', seen.handlers);
    await until(() => seen.closes.length > 0);
    expect(seen.closes).toEqual([{ reason: 'connection closed (4001: revoked elsewhere)', code: 4001 }]);
  });

  it('declares a silent session dead after the dead-after time', async () => {
    const server = await wsServer({});
    const seen = recorder();
    const session = await WsSession.connect(server.url, 't', seen.handlers, 5_000, 1_000);
    await sleep(600);
    expect(seen.closes).toEqual([]);
    await until(() => seen.closes.length > 0, 3_000);
    expect(seen.closes).toEqual([{ reason: 'no traffic for 1 s', code: undefined }]);
    expect(session.open).toBe(false);
  });

  it.each([
    [401, 'unauthorized'],
    [403, 'refused'],
    [404, 'refused'],
    [502, 'unavailable'],
  ])('a connect whose upgrade is answered HTTP %i fails as %s', async (status, kind) => {
    const server = await wsServer({ refuse: status });
    const seen = recorder();
    expect(await connectError(WsSession.connect(server.url, 't', seen.handlers))).toMatchObject({
      name: 'TransportError',
      kind,
      message: `websocket connect failed: the upgrade was answered HTTP ${status}`,
    });
    expect(seen.closes).toEqual([]);
  });

  it('a connect the server closes before its hello fails: revoked for 4001, unavailable otherwise', async () => {
    for (const [code, kind, why] of [
      [4001, 'revoked', 'closed (4001: session revoked)'],
      [1011, 'unavailable', 'closed (1011)'],
    ] as const) {
      const server = await wsServer({ connected: (ws) => ws.close(code, code === 4001 ? 'session revoked' : undefined) });
      const seen = recorder();
      expect(await connectError(WsSession.connect(server.url, 't', seen.handlers))).toMatchObject({ kind, message: `websocket connect failed: ${why}` });
      expect(seen.closes).toEqual([]);
    }
  });

  it('a connect without a hello in time, or to nothing, fails as unavailable', async () => {
    const silent = await wsServer({ connected: () => undefined });
    const started = Date.now();
    expect(await connectError(WsSession.connect(silent.url, 't', recorder().handlers, 300))).toMatchObject({
      kind: 'unavailable',
      message: 'websocket connect failed: no hello from the server',
    });
    expect(Date.now() - started).toBeLessThan(3_000);
    const port = await closedPort();
    expect(await connectError(WsSession.connect(`http://127.0.0.1:${port}`, 't', recorder().handlers))).toMatchObject({
      kind: 'unavailable',
      message: `websocket connect failed: connect ECONNREFUSED 127.0.0.1:${port}`,
    });
  });
});

type Reply = { status: number; body?: string; headers?: Record<string, string> };

/** A batch endpoint answering each request with `reply(ids of its events, request number)`; it records the batches' ids. */
async function batchServer(reply: (ids: string[], call: number) => Reply): Promise<{ url: string; batches: string[][] }> {
  const batches: string[][] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const ids = (JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()) as { events: Envelope[] }).events.map((event) => event.event_id);
    batches.push(ids);
    const answer = reply(ids, batches.length);
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '');
  });
  return { url: await listen(server), batches };
}

const ok = (ids: string[]): Reply => ({ status: 200, body: JSON.stringify({ results: ids.map((event_id) => ({ event_id, status: 'success' })) }) });
const envelopes = (count: number): Envelope[] => Array.from({ length: count }, (_, i) => draft(`E${i}`) as Envelope);
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the send should fail'),
    (error: unknown) => error,
  );

describe('sendBatch', () => {
  it('sends batches of the given limit, and reads an answer without results as none', async () => {
    const server = await batchServer((ids, call) => (call === 2 ? { status: 200, body: '{}' } : ok(ids)));
    const results = await sendBatch(server.url, 't', envelopes(5), undefined, { maxEvents: 2 });
    expect(server.batches).toEqual([['E0', 'E1'], ['E2', 'E3'], ['E4']]);
    expect(results.map((result) => result.event_id)).toEqual(['E0', 'E1', 'E4']);
  });

  it("follows the server's stated per-batch limit for the rest of the drain", async () => {
    const server = await batchServer((ids) =>
      ids.length > 3 ? { status: 413, body: '{"code":"batch_too_many_events","error":"at most 3 events per batch"}' } : ok(ids),
    );
    const limits: BatchLimits = { maxEvents: 1000 };
    const results = await sendBatch(server.url, 't', envelopes(7), undefined, limits);
    expect(limits.maxEvents).toBe(3);
    expect(server.batches.map((ids) => ids.length)).toEqual([7, 3, 3, 1]);
    expect(results).toHaveLength(7);
  });

  it('halves the batch when the server states no usable limit', async () => {
    const bodies = [
      '{"code":"batch_too_many_events"}',
      '{"code":"batch_too_many_events","error":"at most 9 events"}',
      '{"code":"batch_too_many_events","error":"at most 0 events"}',
    ];
    for (const body of bodies) {
      const server = await batchServer((ids) => (ids.length > 2 ? { status: 413, body } : ok(ids)));
      const limits: BatchLimits = { maxEvents: 1000 };
      expect(await sendBatch(server.url, 't', envelopes(8), undefined, limits)).toHaveLength(8);
      expect(server.batches.map((ids) => ids.length)).toEqual([8, 4, 2, 2, 2, 2]);
      expect(limits.maxEvents).toBe(2);
    }
  });

  it('gives up when even one event is too many, keeping the results already had', async () => {
    const server = await batchServer((ids, call) => (call === 1 ? ok(ids) : { status: 413, body: '{"code":"batch_too_many_events"}' }));
    const error = (await failure(sendBatch(server.url, 't', envelopes(3), undefined, { maxEvents: 1 }))) as {
      kind: string;
      message: string;
      partial: EventResult[];
    };
    expect(error).toMatchObject({ kind: 'unavailable', message: 'the server refuses a batch of even one event as too many (413 batch_too_many_events)' });
    expect(error.partial).toEqual([{ event_id: 'E0', status: 'success' }]);
  });

  it.each([
    [{ status: 503, headers: { 'retry-after': '7' }, body: '{"code":"busy"}' }, 'the server is busy (HTTP 503 busy); retrying in 7 s', 7000],
    [{ status: 429, headers: { 'retry-after': '86400' } }, 'the server is busy (HTTP 429); retrying in 300 s', 300_000],
    [{ status: 503, body: 'overloaded' }, 'the server is busy (HTTP 503); retrying with backoff', null],
  ])('a busy answer %j is retried later, never held against an event', async (answer, message, retryAfterMs) => {
    const server = await batchServer(() => answer);
    expect(await failure(sendBatch(server.url, 't', envelopes(2)))).toMatchObject({ kind: 'unavailable', message, retryAfterMs, partial: [] });
    expect(server.batches).toHaveLength(1);
  });

  it('fails as unauthorized on 401, and as unavailable on another status, keeping earlier results', async () => {
    const refused = await batchServer(() => ({ status: 401 }));
    expect(await failure(sendBatch(refused.url, 't', envelopes(1)))).toMatchObject({
      kind: 'unauthorized',
      message: 'the server refused the access token (401)',
    });
    const broken = await batchServer((ids, call) => (call === 1 ? ok(ids) : { status: 500, body: '{"code":"oops","error":1}' }));
    const error = (await failure(sendBatch(broken.url, 't', envelopes(2), undefined, { maxEvents: 1 }))) as { partial: EventResult[] };
    expect(error).toMatchObject({ kind: 'unavailable', message: 'the server answered HTTP 500 oops' });
    expect(error.partial.map((result) => result.event_id)).toEqual(['E0']);
  });

  it('isolates the event of a batch refused as too large (413), naming the code in its rejection', async () => {
    const server = await batchServer((ids) => (ids.includes('E2') ? { status: 413, body: '{"code":"body_too_large"}' } : ok(ids)));
    const results = await sendBatch(server.url, 't', envelopes(4));
    expect(results).toEqual([
      { event_id: 'E0', status: 'success' },
      { event_id: 'E1', status: 'success' },
      { event_id: 'E2', status: 'rejected', error: 'the server refused the batch (413 body_too_large)' },
      { event_id: 'E3', status: 'success' },
    ]);
  });

  it('fails as unavailable when the server cannot be reached or the send is aborted', async () => {
    const port = await closedPort();
    expect(await failure(sendBatch(`http://127.0.0.1:${port}`, 't', envelopes(1)))).toMatchObject({
      kind: 'unavailable',
      message: 'batch upload failed: ECONNREFUSED',
    });
    const server = await batchServer(ok);
    expect(await failure(sendBatch(server.url, 't', envelopes(1), AbortSignal.abort()))).toMatchObject({
      kind: 'unavailable',
      message: 'batch upload failed: This operation was aborted',
    });
    expect(server.batches).toEqual([]);
    expect(await sendBatch(server.url, 't', [])).toEqual([]);
  });
});

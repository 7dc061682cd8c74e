import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { onTestFinished } from 'vitest';
import { WebSocketServer } from 'ws';
import type { Envelope } from '../../src/events/envelope.js';

export interface Received {
  events: number;
  bytes: number;
}

export interface FakeSync {
  url: string;
  port: number;
  /** WebSocket frames of events, and batch bodies (inflated), as they arrived. */
  frames: Received[];
  batches: Received[];
  /** Every event that reached the server, by id, as last sent. */
  received: Map<string, Envelope>;
  /** How many times each event id was sent. */
  sends: Map<string, number>;
  /** Frames acked, counted from the first: one past it is kept unanswered (settable). */
  ackFrames: number;
  requests: { method: string; path: string; authorization: string | undefined; body: string }[];
  close(): Promise<void>;
}

export interface FakeSyncOptions {
  /** The clock sent in hello and every ack. */
  serverClock?: number;
  /** A rejection reason for an event, or null to store it. */
  judge?: (event: Envelope) => string | null;
  /** Status and body for POST /api/v1/token/revoke/. */
  revoke?: { status: number; body?: unknown };
  /** WebSocket frames past this many (over all connections) are kept but not acked, as by a server that hangs (`ackFrames` later). */
  ackFrames?: number;
  /** An event sent again is answered `duplicate`, as the reference server answers it. */
  repeatsAreDuplicates?: boolean;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * A sync server on 127.0.0.1 that keeps what a client sends, frame by frame, with no limits of its
 * own: it shows what the client builds, where the reference server would only refuse it. Any
 * access token is accepted.
 */
export async function fakeSync(options: FakeSyncOptions = {}): Promise<FakeSync> {
  const fake = {
    frames: [],
    batches: [],
    received: new Map(),
    sends: new Map(),
    requests: [],
    ackFrames: options.ackFrames ?? Number.POSITIVE_INFINITY,
  } as unknown as FakeSync;
  const results = (events: Envelope[]) =>
    events.map((event) => {
      const repeated = fake.received.has(event.event_id);
      fake.received.set(event.event_id, event);
      fake.sends.set(event.event_id, (fake.sends.get(event.event_id) ?? 0) + 1);
      const error = options.judge?.(event) ?? null;
      if (error) return { event_id: event.event_id, status: 'rejected', error };
      return { event_id: event.event_id, status: repeated && options.repeatsAreDuplicates ? 'duplicate' : 'success' };
    });
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const gzipped = req.headers['content-encoding'] === 'gzip';
    const body = (gzipped ? gunzipSync(raw) : raw).toString('utf8');
    fake.requests.push({ method: req.method ?? '', path, authorization: req.headers.authorization, body });
    if (path === '/api/v1/ws-token/') return answer(res, 200, { ws_token: 'ws', expires_in: 60 });
    if (path === '/api/v1/token/revoke/' && options.revoke) return answer(res, options.revoke.status, options.revoke.body ?? {});
    if (path === '/api/v1/events/batch/') {
      const { events } = JSON.parse(body) as { events: Envelope[] };
      fake.batches.push({ events: events.length, bytes: Buffer.byteLength(body) });
      return answer(res, 200, { results: results(events) });
    }
    answer(res, 404, { error: 'not found' });
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => undefined);
      ws.send(JSON.stringify({ type: 'hello', server_clock: options.serverClock ?? 0 }));
      ws.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString('utf8')) as { type: string; events?: Envelope[] };
        if (message.type !== 'events' || !message.events) return;
        fake.frames.push({ events: message.events.length, bytes: data.length });
        const answered = results(message.events);
        if (fake.frames.length > fake.ackFrames) return;
        ws.send(JSON.stringify({ type: 'ack', results: answered, server_clock: options.serverClock ?? 0 }));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.port = (server.address() as AddressInfo).port;
  fake.url = `http://127.0.0.1:${fake.port}`;
  let closed = false;
  fake.close = () => {
    if (closed) return Promise.resolve();
    closed = true;
    for (const client of wss.clients) client.terminate();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  onTestFinished(() => fake.close());
  return fake;
}

export const ACCESS = 'access-token-for-tests';
export const REFRESH = 'refresh-token-for-tests';

/** A login to `url` as kitty stores it, valid for an hour, without a login request. */
export function writeCredentials(home: string, url: string, team = 'acme'): string {
  const far = Date.now() + 3600_000;
  const path = join(home, 'credentials.json');
  writeFileSync(
    path,
    JSON.stringify({ server_url: url, username: 'demo', team_slug: team, access: ACCESS, access_expires_at: far, refresh: REFRESH, refresh_expires_at: far }),
    { mode: 0o600 },
  );
  return path;
}

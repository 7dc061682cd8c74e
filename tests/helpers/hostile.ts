// Hostile clients for the reference server: raw sockets, HTTP without a client library's manners,
// and WebSockets that send what no kitty client would.
import { type IncomingHttpHeaders, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { monotonicFactory } from 'ulid';
import { onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { draft } from './events.js';
import { startServer, type TestServer } from './server.js';

export interface HostileServer extends TestServer {
  /** True while the process runs and answers /api/health/. */
  alive(): Promise<boolean>;
}

export interface StartOptions {
  limits?: Record<string, number>;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  data?: string;
  /** A migrated PostgreSQL database URL instead of SQLite under `data`. */
  database?: string;
  /** Users as `NAME:PASSWORD:TEAM`; default demo (acme) and rival (umbrella). */
  users?: string[];
}

/** A real `kitty server` process on 127.0.0.1 port 0, with limits from KITTY_SERVER_LIMITS. */
export async function startHostileServer(options: StartOptions = {}): Promise<HostileServer> {
  const server = await startServer({
    data: options.data,
    database: options.database,
    args: options.args,
    users: options.users ?? ['demo:demo-pass:acme', 'rival:rival-pass:umbrella'],
    env: { ...(options.limits ? { KITTY_SERVER_LIMITS: JSON.stringify(options.limits) } : {}), ...options.env },
  });
  const alive = async (): Promise<boolean> => {
    if (server.process.exitCode !== null || server.process.signalCode !== null) return false;
    try {
      return (await call(server.url, 'GET', '/api/health/')).status === 200;
    } catch {
      return false;
    }
  };
  return { ...server, alive };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON a server under test answered; the tests index into it freely
  json: any;
}

/** One HTTP request on its own connection (no pooling), optionally from another loopback address. */
export function call(
  url: string,
  method: string,
  path: string,
  options: { body?: unknown; raw?: Buffer | string; headers?: Record<string, string>; token?: string; from?: string; gzip?: boolean } = {},
): Promise<Answer> {
  const target = new URL(path, url);
  let body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (options.gzip && body !== undefined) body = gzipSync(body);
  const headers: Record<string, string> = {
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(options.gzip ? { 'content-encoding': 'gzip' } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, method, path: target.pathname + target.search, headers, agent: false, localAddress: options.from },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            // not every answer is JSON (dashboard files)
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface Session {
  access: string;
  refresh: string;
  team_slug: string;
}

export async function login(url: string, username = 'demo', password = 'demo-pass', from?: string): Promise<Session> {
  const answer = await call(url, 'POST', '/api/v1/token/', { body: { username, password }, from });
  if (answer.status !== 200) throw new Error(`login as ${username} answered ${answer.status}: ${answer.text}`);
  return answer.json as Session;
}

const ulid = monotonicFactory();

/** A valid envelope with a fresh ULID (or `id`), overridable at the top level. */
export function envelope(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...draft(ulid()), lamport_clock: 1, timestamp: new Date().toISOString(), ...overrides };
}

export const newId = (): string => ulid();

export interface OpenSocket {
  ws: WebSocket;
  hello: { server_clock: number };
  /** The next message the server sends. */
  // biome-ignore lint/suspicious/noExplicitAny: the next JSON message of a server under test
  next(): Promise<any>;
  /** Resolves with the close code once the server closes the connection. */
  closed: Promise<number>;
}

/** A logged-in WebSocket: ws-token, upgrade, hello. */
export async function openSocket(url: string, access: string): Promise<OpenSocket> {
  const token = (await call(url, 'POST', '/api/v1/ws-token/', { token: access })).json as { ws_token: string };
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws/v1/events/`, {
    headers: { authorization: `Bearer ${token.ws_token}` },
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
  });
  const queue: unknown[] = [];
  const waiting: ((value: unknown) => void)[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as unknown;
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  ws.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  // biome-ignore lint/suspicious/noExplicitAny: the next JSON message of a server under test
  const next = (): Promise<any> => (queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiting.push(resolve)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
  });
  const hello = (await next()) as { type: string; server_clock: number };
  onTestFinished(() => ws.terminate());
  return { ws, hello, next, closed };
}

/** Sends events over a socket and returns the ack. */
// biome-ignore lint/suspicious/noExplicitAny: the JSON answer of a server under test
export async function sendFrame(socket: OpenSocket, events: unknown[]): Promise<any> {
  socket.ws.send(JSON.stringify({ type: 'events', events }));
  return socket.next();
}

/** A raw TCP connection that resolves `ended` when the server closes it, with everything it sent. */
export function rawSocket(port: number, from?: string): Promise<{ socket: Socket; ended: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    let received = '';
    const ended = new Promise<string>((settle) => {
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      socket.on('close', () => settle(received));
    });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, ended }));
    socket.once('error', reject);
    onTestFinished(() => void socket.destroy());
  });
}

/** Resolves true when `promise` settles first, false after `ms` (a guard, never a measurement). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface LiveStream {
  /** Resolves on the first `event: changed` the stream carries. */
  changed: Promise<void>;
  /** How many `event: changed` messages arrived so far. */
  changes(): number;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
}

/** A project's live stream (the dashboard's feed), resolved once the server has subscribed it. */
export function liveStream(url: string, access: string, project: string): Promise<LiveStream> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(`/api/v1/projects/${project}/live/`, url), { headers: { authorization: `Bearer ${access}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`live answered ${res.statusCode}`));
      let text = '';
      let settle!: () => void;
      const changed = new Promise<void>((done) => (settle = done));
      const changes = (): number => text.split('event: changed').length - 1;
      const ended = new Promise<void>((done) => res.once('end', () => done()));
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (changes() > 0) settle();
      });
      // the stream says ": live" once it is subscribed: only then can a change be missed no more
      res.once('data', () => resolve({ changed, changes, ended }));
    });
    req.on('error', reject);
    req.end();
    onTestFinished(() => void req.destroy());
  });
}

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { WebSocketServer, type WebSocket } from 'ws';
import { LOCAL_TEAM_SLUG } from '../constants.js';
import { ServerStore, type EventResult, type User } from './store.js';
import { validateEnvelope } from './validate.js';

export interface ServerOptions {
  host: string;
  port: number;
  dataDir: string;
  users?: { username: string; password: string; team: string }[];
  tls?: { cert: string; key: string };
  accessLifetime?: number;
  refreshLifetime?: number;
  heartbeatMs?: number;
  version: string;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  store: ServerStore;
  close(): Promise<void>;
}

const MAX_BATCH = 1000;
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const WS_TOKEN_LIFETIME = 60;
/** The dashboard: plain files, no build step; its token stays in page memory. */
const DASHBOARD: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
};

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  let body = Buffer.concat(chunks);
  if ((req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
    try {
      body = gunzipSync(body, { maxOutputLength: MAX_BODY_BYTES });
    } catch {
      throw new HttpError(400, 'body is not valid gzip');
    }
  }
  try {
    return body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as unknown);
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

function bearer(req: IncomingMessage): string | null {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7).trim() || null : null;
}

/**
 * Validates and stores events for a user: one result per event, in order; a bad event is rejected
 * alone. Events captured while logged out (`team_slug: "local"`) belong to the caller's team.
 */
export function ingestEvents(store: ServerStore, user: User, events: readonly unknown[]): EventResult[] {
  const results: (EventResult | null)[] = [];
  const accepted: { index: number; envelope: Parameters<ServerStore['ingest']>[1][number] }[] = [];
  events.forEach((event, index) => {
    const id = typeof (event as { event_id?: unknown })?.event_id === 'string' ? (event as { event_id: string }).event_id : '';
    const problem = validateEnvelope(event);
    if (problem) {
      results.push({ event_id: id, status: 'rejected', error: problem });
      return;
    }
    const envelope = event as { team_slug: string };
    if (envelope.team_slug !== user.teamSlug && envelope.team_slug !== LOCAL_TEAM_SLUG) {
      results.push({ event_id: id, status: 'rejected', error: `team_slug "${envelope.team_slug}" is not your team "${user.teamSlug}"` });
      return;
    }
    const stored = { ...(event as object), team_slug: user.teamSlug } as Parameters<ServerStore['ingest']>[1][number]['envelope'];
    accepted.push({ index, envelope: { envelope: stored, raw: JSON.stringify(stored) } });
    results.push(null);
  });
  const stored = store.ingest(user.teamSlug, accepted.map((item) => item.envelope));
  accepted.forEach((item, i) => (results[item.index] = stored[i]!));
  return results as EventResult[];
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const store = new ServerStore(options.dataDir);
  for (const user of options.users ?? []) store.addUser(user.username, user.team, user.password);
  const accessLifetime = options.accessLifetime ?? 900;
  const refreshLifetime = options.refreshLifetime ?? 7 * 24 * 3600;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const log = options.log ?? (() => undefined);

  const tokens = (user: User) => ({
    access: store.issueToken(user, 'access', accessLifetime),
    refresh: store.issueToken(user, 'refresh', refreshLifetime),
    access_lifetime: accessLifetime,
    refresh_lifetime: refreshLifetime,
    team_slug: user.teamSlug,
  });

  const requireUser = (req: IncomingMessage): User => {
    const token = bearer(req);
    const user = token ? store.userForToken(token, 'access') : null;
    if (!user) throw new HttpError(401, 'missing, invalid or expired access token');
    return user;
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/api/health/' && method === 'GET') return send(res, 200, { status: 'ok', version: options.version });
    const asset = DASHBOARD[path];
    if (asset && method === 'GET') {
      const body = readFileSync(new URL(`../../src/server/dashboard/${asset.file}`, import.meta.url));
      res.writeHead(200, { 'content-type': asset.type, 'content-length': body.length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(body);
      return;
    }
    if (path === '/api/v1/token/' && method === 'POST') {
      const body = (await readJson(req)) as { username?: unknown; password?: unknown };
      const user = typeof body.username === 'string' && typeof body.password === 'string' ? store.authenticate(body.username, body.password) : null;
      if (!user) throw new HttpError(401, 'wrong username or password');
      return send(res, 200, tokens(user));
    }
    if (path === '/api/v1/token/refresh/' && method === 'POST') {
      const body = (await readJson(req)) as { refresh?: unknown };
      const user = typeof body.refresh === 'string' ? store.userForToken(body.refresh, 'refresh') : null;
      if (!user) throw new HttpError(401, 'invalid or expired refresh token');
      store.revoke(body.refresh as string);
      return send(res, 200, tokens(user));
    }
    if (path === '/api/v1/ws-token/' && method === 'POST') {
      const user = requireUser(req);
      return send(res, 200, { ws_token: store.issueToken(user, 'ws', WS_TOKEN_LIFETIME), expires_in: WS_TOKEN_LIFETIME });
    }
    if (path === '/api/v1/events/batch/' && method === 'POST') {
      const user = requireUser(req);
      const body = (await readJson(req)) as { events?: unknown };
      if (!Array.isArray(body.events)) throw new HttpError(400, 'body must be {"events": [...]}');
      if (body.events.length > MAX_BATCH) throw new HttpError(400, `at most ${MAX_BATCH} events per batch, got ${body.events.length}`);
      return send(res, 200, { results: ingestEvents(store, user, body.events) });
    }
    if (path === '/api/v1/projects/' && method === 'GET') return send(res, 200, store.projects(requireUser(req).teamSlug));
    const project = /^\/api\/v1\/projects\/([0-9a-f-]{36})\/(events|board)\/$/i.exec(path);
    if (project && method === 'GET') {
      const user = requireUser(req);
      if (project[2] === 'board') return send(res, 200, store.board(user.teamSlug, project[1]!));
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 100) || 100, 1), 1000);
      return send(res, 200, store.eventsAfter(user.teamSlug, project[1]!, url.searchParams.get('after'), limit));
    }
    throw new HttpError(404, `no route for ${method} ${path}`);
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) send(res, error.status, { error: error.message });
      else {
        log(`internal error on ${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}: ${(error as Error).message}`);
        send(res, 500, { error: 'internal server error' });
      }
    });
  };

  const server: Server = options.tls
    ? createHttpsServer({ cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) }, handler)
    : createHttpServer(handler);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_BODY_BYTES });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const token = bearer(req);
    const user = path === '/ws/v1/events/' && token ? store.userForToken(token, 'ws') : null;
    if (!user) {
      socket.end(`HTTP/1.1 ${path === '/ws/v1/events/' ? '401 Unauthorized' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, user));
  });

  const serveSocket = (ws: WebSocket, user: User): void => {
    let lastTraffic = Date.now();
    const sendJson = (value: unknown): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(value));
    };
    sendJson({ type: 'hello', server_clock: store.serverClock });
    const heartbeat = setInterval(() => {
      if (Date.now() - lastTraffic > heartbeatMs * 2) {
        ws.terminate();
        return;
      }
      sendJson({ type: 'ping' });
    }, heartbeatMs);
    ws.on('close', () => clearInterval(heartbeat));
    ws.on('message', (data) => {
      lastTraffic = Date.now();
      let message: { type?: unknown; events?: unknown };
      try {
        message = JSON.parse(data.toString()) as typeof message;
      } catch {
        sendJson({ type: 'error', error: 'frame is not JSON' });
        return;
      }
      if (message.type === 'pong') return;
      if (message.type !== 'events' || !Array.isArray(message.events)) {
        sendJson({ type: 'error', error: 'expected {"type":"events","events":[...]} or {"type":"pong"}' });
        return;
      }
      try {
        const results = ingestEvents(store, user, message.events);
        sendJson({ type: 'ack', results, server_clock: store.serverClock });
      } catch (error) {
        log(`internal error on a websocket frame: ${(error as Error).message}`);
        sendJson({ type: 'error', error: 'internal server error' });
      }
    });
  };

  const purge = setInterval(() => store.purgeExpiredTokens(), 60_000);
  purge.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}`,
    store,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(purge);
        for (const client of wss.clients) client.terminate();
        server.close(() => {
          store.close();
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

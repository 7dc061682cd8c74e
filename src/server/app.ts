import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type ServerOptions as HttpOptions, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Accounts } from './accounts.js';
import { plain } from './client-address.js';
import { BodyBudget, closeAfterAnswer, HttpError, requestUrl, sendJson } from './http.js';
import { type Limits, resolveLimits } from './limits.js';
import { LiveFeed } from './live.js';
import { type RouteContext, route } from './routes.js';
import { EventSockets } from './sockets.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';
import { resolvePassword, type UserSpec } from './users.js';

interface ServerOptions {
  host: string;
  port: number;
  dataDir: string;
  /** A `postgres://` URL: the store is that PostgreSQL database (its schema made by `kitty server migrate`) instead of SQLite under dataDir. */
  databaseUrl?: string;
  /** A password `env:VAR` or `file:PATH` is read from there (see users.ts). */
  users?: UserSpec[];
  tls?: { cert: string; key: string };
  accessLifetime?: number;
  refreshLifetime?: number;
  /** Addresses of reverse proxies trusted to name the client in X-Forwarded-For. */
  trustedProxies?: readonly string[];
  heartbeatMs?: number;
  version: string;
  log?: (line: string) => void;
  /** Over the defaults and `KITTY_SERVER_LIMITS`. */
  limits?: Partial<Limits>;
  env?: NodeJS.ProcessEnv;
}

interface RunningServer {
  url: string;
  store: Store;
  close(): Promise<void>;
}

const WS_TOKEN_LIFETIME = 60;

/**
 * Slow clients are cut off by Node itself: headers within headersTimeout, the whole request within
 * requestTimeout, checked every second (Node's default check runs every 30 s, which let a trickling
 * client hold its connection half a minute past any limit).
 */
function httpOptions(limits: Limits): HttpOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(limits.headersTimeoutMs / 2))),
  };
}

function errorHandler(log: (line: string) => void) {
  const answer = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    if (error instanceof HttpError) {
      if (error.close) closeAfterAnswer(req, res);
      sendJson(res, error.status, { error: error.message, code: error.code }, error.headers);
      return;
    }
    log(`internal error on ${req.method} ${requestUrl(req)?.pathname ?? '(no valid URL)'}: ${(error as Error).message}`);
    sendJson(res, 500, { error: 'internal server error', code: 'internal_error' });
  };
  // this is the last handler of a request: anything it throws would be an unhandled rejection, which ends the process
  return (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    try {
      answer(req, res, error);
    } catch {
      res.destroy();
    }
  };
}

function listen(server: Server, options: ServerOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Passwords are resolved before the store opens; a store that then fails to take a user is closed, not leaked. */
async function openStoreWithUsers(options: ServerOptions, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<Store> {
  const users = (options.users ?? []).map((user) => resolvePassword(user, env));
  const store = await openStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl, log });
  try {
    for (const user of users) await store.addUser(user.username, user.team, user.password);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

function httpServer(options: ServerOptions, limits: Limits, handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server: Server = options.tls
    ? createHttpsServer({ ...httpOptions(limits), cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) }, handler)
    : createHttpServer(httpOptions(limits), handler);
  // past it, Node closes new connections at once instead of running out of descriptors
  server.maxConnections = limits.maxConnections;
  return server;
}

/** A failed purge is only logged: the next one, a minute later, catches up. */
function purgeTokensEveryMinute(store: Store, log: (line: string) => void): NodeJS.Timeout {
  const purge = setInterval(() => {
    store.purgeExpiredTokens().catch((error: unknown) => log(`purging expired tokens failed (tried again in a minute): ${(error as Error).message}`));
  }, 60_000);
  purge.unref();
  return purge;
}

function serverUrl(server: Server, tls: boolean): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${tls ? 'https' : 'http'}://${host}:${address.port}`;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const limits = resolveLimits(env, options.limits);
  const log = options.log ?? (() => undefined);
  const store = await openStoreWithUsers(options, env, log);
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const sockets = new EventSockets({ store, limits, heartbeatMs, log });
  const live = new LiveFeed(heartbeatMs);
  store.onChange((change) => {
    if (change.kind === 'revoked') sockets.revoke(change.family);
    live.apply(change);
  });
  const lifetimes = { access: options.accessLifetime ?? 900, refresh: options.refreshLifetime ?? 7 * 24 * 3600 };
  const ctx: RouteContext = {
    store,
    accounts: new Accounts(store, limits, lifetimes),
    live,
    limits,
    budget: new BodyBudget(limits.bodyBudgetBytes),
    version: options.version,
    wsTokenLifetime: WS_TOKEN_LIFETIME,
    trustedProxies: new Set((options.trustedProxies ?? []).map(plain)),
  };
  const fail = errorHandler(log);
  const server = httpServer(options, limits, (req, res) => void route(ctx, req, res).catch((error: unknown) => fail(req, res, error)));
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => sockets.handleUpgrade(req, socket, head));
  const purge = purgeTokensEveryMinute(store, log);
  try {
    await listen(server, options);
  } catch (error) {
    clearInterval(purge);
    live.closeAll();
    await store.close();
    throw error;
  }
  // after listening, an accept error (EMFILE) must not end the process
  server.on('error', (error) => log(`server error: ${error.message}`));
  return {
    url: serverUrl(server, Boolean(options.tls)),
    store,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(purge);
        sockets.closeAll();
        live.closeAll();
        server.close(() => void store.close().then(resolve, resolve));
        server.closeAllConnections();
      }),
  };
}

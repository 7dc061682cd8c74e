import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Accounts } from './accounts.js';
import { clientAddress } from './client-address.js';
import { BASE_HEADERS, type BodyBudget, bearer, HttpError, parseJson, readBody, requestUrl, sendJson, sendText } from './http.js';
import { ingestEvents } from './ingest.js';
import type { Limits } from './limits.js';
import type { LiveFeed } from './live.js';
import type { Session, Store } from './store/types.js';

export interface RouteContext {
  store: Store;
  accounts: Accounts;
  live: LiveFeed;
  limits: Limits;
  budget: BodyBudget;
  version: string;
  wsTokenLifetime: number;
  /** Reverse proxies whose X-Forwarded-For names the client (`--trust-proxy`). */
  trustedProxies: ReadonlySet<string>;
}

/**
 * The dashboard's policy: scripts and styles only from this origin (no inline script, so injected
 * markup cannot run), requests only to this origin, never framed, forms never submitted natively.
 */
const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The dashboard: plain files next to this module (the build copies them into dist/), read once; its token stays in page memory. */
const DASHBOARD = Object.fromEntries(
  [
    ['/', 'index.html', 'text/html; charset=utf-8'],
    ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
    ['/app.css', 'app.css', 'text/css; charset=utf-8'],
    ['/charts.js', 'charts.js', 'text/javascript; charset=utf-8'],
    ['/flow.js', 'flow.js', 'text/javascript; charset=utf-8'],
    ['/charts.css', 'charts.css', 'text/css; charset=utf-8'],
  ].map(([path, file, type]) => [path!, { body: readFileSync(new URL(`./dashboard/${file}`, import.meta.url)), type: type! }]),
);

function serveAsset(res: ServerResponse, asset: { body: Buffer; type: string }): void {
  res.writeHead(200, { ...BASE_HEADERS, 'content-security-policy': DASHBOARD_CSP, 'content-type': asset.type, 'content-length': asset.body.length });
  res.end(asset.body);
}

async function requireSession(ctx: RouteContext, req: IncomingMessage): Promise<Session> {
  const token = bearer(req);
  const session = token ? await ctx.store.sessionForToken(token, 'access') : null;
  if (!session) throw new HttpError(401, 'unauthorized', 'missing, invalid or expired access token');
  return session;
}

async function body(ctx: RouteContext, req: IncomingMessage, cap: number): Promise<unknown> {
  return parseJson(await readBody(req, cap, ctx.budget));
}

async function batch(ctx: RouteContext, req: IncomingMessage): Promise<unknown> {
  const session = await requireSession(ctx, req);
  const parsed = (await body(ctx, req, ctx.limits.batchBytes)) as { events?: unknown } | null;
  if (!Array.isArray(parsed?.events)) throw new HttpError(400, 'bad_request', 'body must be {"events": [...]}');
  if (parsed.events.length > ctx.limits.batchEvents)
    throw new HttpError(413, 'batch_too_many_events', `at most ${ctx.limits.batchEvents} events per batch, got ${parsed.events.length}`);
  return { results: (await ingestEvents(ctx.store, session, parsed.events, ctx.limits)).results };
}

async function page(ctx: RouteContext, res: ServerResponse, url: URL, session: Session, project: string): Promise<void> {
  const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 100) || 100, 1), ctx.limits.pageEvents);
  const { events, more } = await ctx.store.eventsAfter(session.teamSlug, project, url.searchParams.get('after'), limit, ctx.limits.pageBytes);
  // a page can end before `limit` (bytes): the header says whether to ask again
  sendText(res, 200, `[${events.join(',')}]`, { 'x-kitty-more': String(more) });
}

export async function route(ctx: RouteContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = requestUrl(req);
  if (!url) throw new HttpError(400, 'bad_request', 'the request target is not a valid URL');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const post = method === 'POST';
  if (path === '/api/health/' && method === 'GET') return sendJson(res, 200, { status: 'ok', version: ctx.version });
  const asset = DASHBOARD[path];
  if (asset && method === 'GET') return serveAsset(res, asset);
  if (path === '/api/v1/token/' && post)
    return sendJson(res, 200, await ctx.accounts.login(await body(ctx, req, ctx.limits.tokenBodyBytes), clientAddress(req, ctx.trustedProxies)));
  if (path === '/api/v1/token/refresh/' && post) return sendJson(res, 200, await ctx.accounts.refresh(await body(ctx, req, ctx.limits.tokenBodyBytes)));
  if (path === '/api/v1/token/revoke/' && post) return sendJson(res, 200, await ctx.accounts.revoke(await body(ctx, req, ctx.limits.tokenBodyBytes)));
  if (path === '/api/v1/ws-token/' && post) {
    const session = await requireSession(ctx, req);
    return sendJson(res, 200, { ws_token: await ctx.store.issueToken(session, 'ws', ctx.wsTokenLifetime, session.family), expires_in: ctx.wsTokenLifetime });
  }
  if (path === '/api/v1/events/batch/' && post) return sendJson(res, 200, await batch(ctx, req));
  if (path === '/api/v1/projects/' && method === 'GET') return sendJson(res, 200, await ctx.store.projects((await requireSession(ctx, req)).teamSlug));
  const project = /^\/api\/v1\/projects\/([0-9a-f-]{36})\/(events|board|live)\/$/i.exec(path);
  if (project && method === 'GET') {
    const session = await requireSession(ctx, req);
    if (project[2] === 'board') return sendJson(res, 200, await ctx.store.board(session.teamSlug, project[1]!));
    if (project[2] === 'live') return ctx.live.subscribe(res, session, project[1]!);
    return page(ctx, res, url, session, project[1]!);
  }
  throw new HttpError(404, 'not_found', `no route for ${method} ${path}`);
}

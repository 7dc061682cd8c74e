import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Credentials } from '../../src/auth/credentials.js';
import { accessToken, errorCode, login, postJson, retryAfterSeconds, unreachable } from '../../src/auth/session.js';
import { tempDir, testEnv } from '../helpers/gitdir.js';
import { closedPort } from '../helpers/net.js';

type Answer = { status: number; body?: string; headers?: Record<string, string> };

interface Scripted {
  url: string;
  /** Requests as `PATH BODY AUTHORIZATION`. */
  seen: string[];
}

/** A server on 127.0.0.1 answering each path with the next of its scripted answers (the last one repeats). */
async function scripted(routes: Record<string, Answer[]>): Promise<Scripted> {
  const seen: string[] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    seen.push(`${req.url} ${body} ${req.headers.authorization ?? '-'}`);
    const answers = routes[req.url ?? ''] ?? [{ status: 404, body: '{}' }];
    const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const tokens = (access: string, lifetime = 300) =>
  JSON.stringify({ access, refresh: `${access}-refresh`, access_lifetime: lifetime, refresh_lifetime: 86_400, team_slug: 'acme' });

function stateDir(): { home: string; env: NodeJS.ProcessEnv; path: string } {
  const home = tempDir();
  return { home, env: testEnv(home), path: join(home, 'credentials.json') };
}

function store(path: string, url: string, overrides: Partial<Credentials> = {}): Credentials {
  const far = Date.now() + 3600_000;
  const credentials: Credentials = {
    server_url: url,
    username: 'demo',
    team_slug: 'acme',
    access: 'old-access',
    access_expires_at: far,
    refresh: 'old-refresh',
    refresh_expires_at: far,
    ...overrides,
  };
  writeFileSync(path, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

const stored = (path: string): Credentials => JSON.parse(readFileSync(path, 'utf8')) as Credentials;

async function refused(promise: Promise<unknown>): Promise<{ code: string; message: string; hint: string | undefined }> {
  const error = (await promise.then(
    () => expect.unreachable('it should have been refused'),
    (caught: unknown) => caught,
  )) as { code: string; message: string; hint: string | undefined };
  return { code: error.code, message: error.message, hint: error.hint };
}

describe('session helpers', () => {
  it('reads Retry-After as seconds or as an HTTP date, and nothing else', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const answer = (value?: string) => new Response(null, { headers: value === undefined ? {} : { 'retry-after': value } });
    expect(retryAfterSeconds(answer(), now)).toBeNull();
    expect(retryAfterSeconds(answer('  '), now)).toBeNull();
    expect(retryAfterSeconds(answer('17'), now)).toBe(17);
    expect(retryAfterSeconds(answer('Thu, 01 Jan 2026 00:00:09 GMT'), now)).toBe(9);
    expect(retryAfterSeconds(answer('Wed, 31 Dec 2025 23:00:00 GMT'), now)).toBe(0);
    expect(retryAfterSeconds(answer('soon'), now)).toBeNull();
    expect(retryAfterSeconds(answer('-5'), now)).toBe(0);
  });

  it('takes the code of a JSON error body only when it is a string', async () => {
    expect(await errorCode(new Response('{"code":"login_throttled"}'))).toBe('login_throttled');
    expect(await errorCode(new Response('{"code":42}'))).toBeNull();
    expect(await errorCode(new Response('null'))).toBeNull();
    expect(await errorCode(new Response('<html>'))).toBeNull();
  });

  it('names why a server is unreachable: the system code, else the message, else the value', () => {
    const reasons = [Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNRESET' } }), new Error('timed out'), 'gone'].map((cause) =>
      unreachable('http://127.0.0.1:1', cause),
    );
    expect(reasons.map((error) => error.message)).toEqual([
      'cannot reach the sync server at http://127.0.0.1:1 (ECONNRESET)',
      'cannot reach the sync server at http://127.0.0.1:1 (timed out)',
      'cannot reach the sync server at http://127.0.0.1:1 (gone)',
    ]);
    expect(reasons[0]).toMatchObject({ code: 'KITTY_ERR_SERVER_UNREACHABLE', hint: expect.stringContaining('kitty doctor') });
  });

  it('posts JSON with the bearer token, and turns a refused connection or an abort into SERVER_UNREACHABLE', async () => {
    const server = await scripted({ '/echo': [{ status: 204 }] });
    expect((await postJson(`${server.url}/echo`, { a: 1 }, 'tok')).status).toBe(204);
    expect((await postJson(`${server.url}/echo`, [])).status).toBe(204);
    expect(server.seen).toEqual(['/echo {"a":1} Bearer tok', '/echo [] -']);
    const gone = await closedPort();
    expect(await refused(postJson(`http://127.0.0.1:${gone}/api/v1/token/`, {}))).toMatchObject({
      code: 'KITTY_ERR_SERVER_UNREACHABLE',
      message: `cannot reach the sync server at http://127.0.0.1:${gone} (ECONNREFUSED)`,
    });
    expect(await refused(postJson(`${server.url}/echo`, {}, undefined, AbortSignal.abort()))).toMatchObject({
      code: 'KITTY_ERR_SERVER_UNREACHABLE',
      message: `cannot reach the sync server at ${server.url} (This operation was aborted)`,
    });
    expect(server.seen).toHaveLength(2);
  });
});

describe('login', () => {
  it('stores the tokens with their expiry and answers the path', async () => {
    const server = await scripted({ '/api/v1/token/': [{ status: 200, body: tokens('fresh', 600) }] });
    const { env, path } = stateDir();
    const before = Date.now();
    const result = await login(server.url, 'demo', 'pw', env);
    expect(result.path).toBe(path);
    expect(stored(path)).toEqual(result.credentials);
    expect(result.credentials).toMatchObject({ server_url: server.url, username: 'demo', team_slug: 'acme', access: 'fresh', refresh: 'fresh-refresh' });
    expect(result.credentials.access_expires_at - before).toBeGreaterThanOrEqual(600_000);
    expect(result.credentials.access_expires_at - Date.now()).toBeLessThanOrEqual(600_000);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(server.seen).toEqual(['/api/v1/token/ {"username":"demo","password":"pw"} -']);
  });

  it.each([
    [
      { status: 429, headers: { 'retry-after': '30' }, body: '{"code":"login_throttled"}' },
      'KITTY_ERR_LOGIN_RATE_LIMITED',
      'refused: the server is limiting login attempts after failed ones (HTTP 429 login_throttled); retry in 30 s',
      'wait 30 s, then run `kitty auth login` again with the right password',
    ],
    [
      { status: 429 },
      'KITTY_ERR_LOGIN_RATE_LIMITED',
      'refused: the server is limiting login attempts after failed ones (HTTP 429); retry later',
      'wait, then run `kitty auth login` again with the right password',
    ],
    [
      { status: 503, headers: { 'retry-after': '2' }, body: '{"code":"busy"}' },
      'KITTY_ERR_LOGIN_FAILED',
      'not checked: the server is busy (HTTP 503 busy); retry in 2 s',
      'wait 2 s, then run `kitty auth login` again',
    ],
    [{ status: 503 }, 'KITTY_ERR_LOGIN_FAILED', 'not checked: the server is busy (HTTP 503); retry later', 'wait a moment, then run `kitty auth login` again'],
  ])('a throttled or busy answer (%j) never says the password was wrong', async (answer, code, message, hint) => {
    const server = await scripted({ '/api/v1/token/': [answer] });
    const { env, path } = stateDir();
    expect(await refused(login(server.url, 'demo', 'pw', env))).toEqual({ code, message: `login to ${server.url} as demo ${message}`, hint });
    expect(existsSync(path)).toBe(false);
  });

  it('says wrong username or password on 401 and 400, and names any other status', async () => {
    const server = await scripted({ '/api/v1/token/': [{ status: 401 }, { status: 400 }, { status: 500 }] });
    const { env } = stateDir();
    const wrong = { code: 'KITTY_ERR_LOGIN_FAILED', message: `login to ${server.url} as demo failed: wrong username or password` };
    expect(await refused(login(server.url, 'demo', 'pw', env))).toMatchObject(wrong);
    expect(await refused(login(server.url, 'demo', 'pw', env))).toMatchObject(wrong);
    expect(await refused(login(server.url, 'demo', 'pw', env))).toEqual({
      code: 'KITTY_ERR_LOGIN_FAILED',
      message: `login to ${server.url} failed: the server answered HTTP 500`,
      hint: 'try again later; `kitty doctor` checks the server',
    });
  });

  it('stops reading an answer past 1 MiB (a token answer is a few hundred bytes) and stores nothing', async () => {
    const server = await scripted({ '/api/v1/token/': [{ status: 200, body: `{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}` }] });
    const { env, path } = stateDir();
    expect(await refused(login(server.url, 'demo', 'pw', env))).toMatchObject({
      code: 'KITTY_ERR_SERVER_UNREACHABLE',
      message: `cannot reach the sync server at ${server.url} (the answer is over 1048576 bytes)`,
    });
    expect(existsSync(path)).toBe(false);
  });

  it('names the address a redirect points to and sends the password nowhere else', async () => {
    const target = await scripted({ '/api/v1/token/': [{ status: 200, body: '{}' }] });
    const server = await scripted({ '/api/v1/token/': [{ status: 308, headers: { location: `${target.url}/api/v1/token/` } }] });
    const { env, path } = stateDir();
    expect(await refused(login(server.url, 'demo', 'pw', env))).toEqual({
      code: 'KITTY_ERR_LOGIN_FAILED',
      message: `login to ${server.url} failed: the server redirects to ${target.url} (HTTP 308)`,
      hint: `log in to that address: \`kitty auth login --server ${target.url}\``,
    });
    expect(target.seen).toEqual([]);
    expect(existsSync(path)).toBe(false);
  });
});

describe('accessToken', () => {
  it('refuses when not logged in', async () => {
    const { env } = stateDir();
    expect(await refused(accessToken(env))).toEqual({
      code: 'KITTY_ERR_NOT_LOGGED_IN',
      message: 'not logged in to a sync server',
      hint: 'run `kitty auth login --server URL`',
    });
  });

  it('uses a live token as it is, refreshes one about to expire, and refreshes at once when forced', async () => {
    const server = await scripted({
      '/api/v1/token/refresh/': [
        { status: 200, body: tokens('second') },
        { status: 200, body: tokens('third') },
      ],
    });
    const { env, path } = stateDir();
    store(path, server.url);
    expect((await accessToken(env)).token).toBe('old-access');
    expect(server.seen).toEqual([]);

    store(path, server.url, { access_expires_at: Date.now() + 30_000 });
    const renewed = await accessToken(env);
    expect(renewed.token).toBe('second');
    expect(stored(path)).toEqual(renewed.credentials);
    expect(server.seen).toEqual(['/api/v1/token/refresh/ {"refresh":"old-refresh"} -']);

    expect((await accessToken(env, { force: true })).token).toBe('third');
    expect(server.seen.at(-1)).toBe('/api/v1/token/refresh/ {"refresh":"second-refresh"} -');
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it('ends the session when the refresh token expired or is refused; a failing server is unreachable, not an ended session', async () => {
    const server = await scripted({ '/api/v1/token/refresh/': [{ status: 401 }, { status: 502 }] });
    const { env, path } = stateDir();
    store(path, server.url, { access_expires_at: 0, refresh_expires_at: Date.now() - 1 });
    const ended = { code: 'KITTY_ERR_SESSION_EXPIRED', hint: 'run `kitty auth login`' };
    expect(await refused(accessToken(env))).toEqual({ ...ended, message: 'your sync session has ended (the refresh token expired)' });
    expect(server.seen).toEqual([]);

    store(path, server.url, { access_expires_at: 0 });
    expect(await refused(accessToken(env))).toEqual({ ...ended, message: 'your sync session has ended (the server refused the refresh token)' });
    expect(await refused(accessToken(env))).toMatchObject({
      code: 'KITTY_ERR_SERVER_UNREACHABLE',
      message: `cannot reach the sync server at ${server.url} (HTTP 502 on token refresh)`,
    });
    expect(stored(path).access).toBe('old-access');
  });

  describe('while another process holds the refresh lock', () => {
    /** Holds the lock as a live process would, runs `meanwhile` once the refresh waits, then lets go. */
    async function waitingRefresh(env: NodeJS.ProcessEnv, path: string, meanwhile: () => void, force = false) {
      writeFileSync(`${path}.lock`, `${process.pid} ${hostname()} ${Date.now()} refresh\n`);
      const result = accessToken(env, { force }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      await sleep(150);
      meanwhile();
      rmSync(`${path}.lock`);
      return result;
    }

    it('takes the tokens the other process obtained instead of refreshing again', async () => {
      const server = await scripted({ '/api/v1/token/refresh/': [{ status: 500 }] });
      const { env, path } = stateDir();
      store(path, server.url, { access_expires_at: 0 });
      const outcome = await waitingRefresh(env, path, () => store(path, server.url, { access: 'theirs' }));
      expect(outcome).toMatchObject({ value: { token: 'theirs', credentials: { access: 'theirs' } } });
      expect(server.seen).toEqual([]);
    });

    it('takes the same token when its expiry was pushed out meanwhile, unless forced', async () => {
      const server = await scripted({ '/api/v1/token/refresh/': [{ status: 200, body: tokens('forced') }] });
      const { env, path } = stateDir();
      store(path, server.url, { access_expires_at: Date.now() + 1000 });
      const outcome = await waitingRefresh(env, path, () => store(path, server.url));
      expect(outcome).toMatchObject({ value: { token: 'old-access' } });
      expect(server.seen).toEqual([]);
      const forced = await waitingRefresh(env, path, () => store(path, server.url), true);
      expect(forced).toMatchObject({ value: { token: 'forced' } });
      expect(server.seen).toHaveLength(1);
    });

    it('refuses when the credentials were removed meanwhile (a logout)', async () => {
      const server = await scripted({});
      const { env, path } = stateDir();
      store(path, server.url, { access_expires_at: 0 });
      const outcome = (await waitingRefresh(env, path, () => rmSync(path))) as { error: { code: string; message: string } };
      expect(outcome.error).toMatchObject({
        code: 'KITTY_ERR_NOT_LOGGED_IN',
        message: 'not logged in to a sync server (the credentials were removed)',
      });
      expect(server.seen).toEqual([]);
    });
  });
});

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import Database from '../../src/deps/better-sqlite3.js';
import { writeCredentials } from '../helpers/fake-sync.js';
import { ROOT, runKittyAsync, runKittyHere, tempDir, testEnv } from '../helpers/gitdir.js';
import { startHostileServer } from '../helpers/hostile.js';
import { login, startServer } from '../helpers/server.js';
import { counts, enqueue } from '../helpers/sync.js';

interface Scripted {
  url: string;
  upgrades: number;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}

function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/**
 * A server answering what the reference server cannot be made to answer on cue: `batch` decides
 * each batch, `socket` drives each WebSocket after its hello. ws-token always succeeds.
 */
async function scripted(options: {
  batch?: (events: { event_id: string }[], res: ServerResponse) => void;
  socket?: (ws: WebSocket, events: { event_id: string }[]) => void;
}): Promise<Scripted> {
  const state = { url: '', upgrades: 0 };
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/api/v1/ws-token/') return answer(res, 200, { ws_token: 'ws', expires_in: 60 });
    if (path === '/api/v1/events/batch/' && options.batch) return options.batch((JSON.parse(body) as { events: { event_id: string }[] }).events, res);
    answer(res, 404, { error: 'not found' });
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => undefined);
    state.upgrades++;
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => undefined);
      ws.send(JSON.stringify({ type: 'hello', server_clock: 0 }));
      ws.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString('utf8')) as { type: string; events?: { event_id: string }[] };
        if (message.type === 'events' && message.events) options.socket?.(ws, message.events);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return state;
}

const success = (events: { event_id: string }[]) => ({ results: events.map((event) => ({ event_id: event.event_id, status: 'success' })) });

/** A state dir whose login points at `url` (tokens the scripted server never checks), holding `count` events. */
function loggedInTo(url: string, count: number, extra: NodeJS.ProcessEnv = {}) {
  const home = tempDir();
  writeCredentials(home, url);
  enqueue(home, count);
  return { home, env: testEnv(home, extra) };
}

describe('the client follows what the hardened server answers', () => {
  it('login answered 429 login_rate_limited says the server is limiting attempts and when to retry, not "wrong password"', async () => {
    const server = await startHostileServer({ limits: { loginFreeFailuresPerUser: 0, loginBackoffBaseMs: 60_000 } });
    const home = tempDir();
    const wrong = await login(server.url, tempDir(), testEnv(home), 'nope');
    expect(wrong.stderr).toContain('KITTY_ERR_LOGIN_FAILED');
    const limited = await login(server.url, tempDir(), testEnv(home), 'demo-pass');
    expect(limited.code).toBe(1);
    expect(limited.stderr).toMatch(
      /^kitty: error KITTY_ERR_LOGIN_RATE_LIMITED: login to http:\/\/127\.0\.0\.1:\d+ as demo refused: the server is limiting login attempts .*login_rate_limited.*; retry in \d+ s; hint: wait \d+ s, then run `kitty auth login` again/,
    );
    expect(limited.stderr).not.toContain('wrong username or password');
    expect(limited.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a WebSocket closed 4001 (session revoked) stops the flush at once: events stay pending, the error says to log in', async () => {
    const fake = await scripted({ socket: (ws) => ws.close(4001, 'session revoked') });
    const { env } = loggedInTo(fake.url, 3);
    const started = Date.now();
    const flush = await runKittyAsync(['sync', 'flush', '--json', '--timeout', '20'], tempDir(), env);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(flush.code).toBe(1);
    const summary = JSON.parse(flush.stdout) as { why_pending: string };
    expect(summary.why_pending).toMatch(/revoked this session .*4001.*run `kitty auth login`/);
    expect(fake.upgrades).toBe(1);
    expect(counts(env)).toEqual({ pending: 3, delivered: 0, dead: 0 });
  });

  it('batch HTTP answered 503 server_busy waits the Retry-After and sends the same events again; none dead, none split', async () => {
    const seen: { at: number; events: number }[] = [];
    const fake = await scripted({
      batch: (events, res) => {
        seen.push({ at: Date.now(), events: events.length });
        if (seen.length <= 2) return answer(res, 503, { error: 'busy', code: 'server_busy' }, { 'retry-after': '1' });
        answer(res, 200, success(events));
      },
    });
    const { env } = loggedInTo(fake.url, 5, { KITTY_TRANSPORT: 'http' });
    const flush = await runKittyAsync(['sync', 'flush', '--json', '--timeout', '30'], tempDir(), env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(counts(env)).toEqual({ pending: 0, delivered: 5, dead: 0 });
    expect(seen.map((request) => request.events)).toEqual([5, 5, 5]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(900);
    expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(900);
  });

  it('batch HTTP answered 413 batch_too_many_events sends batches of the stated size from then on, marking nothing dead', async () => {
    const sizes: number[] = [];
    const fake = await scripted({
      batch: (events, res) => {
        sizes.push(events.length);
        if (events.length > 100) return answer(res, 413, { error: `at most 100 events per batch, got ${events.length}`, code: 'batch_too_many_events' });
        answer(res, 200, success(events));
      },
    });
    const { env } = loggedInTo(fake.url, 1000, { KITTY_TRANSPORT: 'http' });
    const flush = await runKittyAsync(['sync', 'flush', '--json', '--timeout', '30'], tempDir(), env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(counts(env)).toEqual({ pending: 0, delivered: 1000, dead: 0 });
    expect(sizes.filter((size) => size > 100)).toHaveLength(1);
    expect(sizes.filter((size) => size <= 100)).toEqual(Array(10).fill(100));
  });

  it('processes refreshing the session at once take turns: every one gets a live token and the session survives', async () => {
    const server = await startServer();
    const home = tempDir();
    const env = testEnv(home);
    expect((await login(server.url, tempDir(), env)).code).toBe(0);
    // every process starts its refresh at the same instant, after its startup
    const at = Date.now() + 1500;
    const script = `const { accessToken } = await import(${JSON.stringify(join(ROOT, 'dist/auth/session.js'))});
      await new Promise((r) => setTimeout(r, ${at} - Date.now()));
      const { token } = await accessToken(process.env, { force: true });
      process.stdout.write(token);`;
    const run = () =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      });
    const results = await Promise.all([run(), run(), run(), run()]);
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const stored = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8')) as { access: string };
    const wsToken = await fetch(`${server.url}/api/v1/ws-token/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stored.access}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(wsToken.status).toBe(200);
    enqueue(home, 2);
    const flush = await runKittyHere(['sync', 'flush', '--json'], tempDir(), env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 2 });
  });

  it('`kitty server` start errors name their cause and fix; --help documents --user env:/file: and KITTY_SERVER_LIMITS', async () => {
    const limits = await runKittyHere(
      ['server', '--port', '0', '--data', tempDir()],
      tempDir(),
      testEnv(tempDir(), { KITTY_SERVER_LIMITS: '{"maxConections":5}' }),
    );
    expect(limits.code).toBe(1);
    expect(limits.stderr).toMatch(
      /^kitty: error KITTY_ERR_SERVER_BAD_LIMITS: cannot start the server: KITTY_SERVER_LIMITS: unknown limit "maxConections".*; hint: fix or unset KITTY_SERVER_LIMITS/,
    );
    expect(limits.stderr).not.toContain('another port');

    const proxy = await runKittyHere(['server', '--port', '0', '--data', tempDir(), '--trust-proxy', 'proxy.example'], tempDir(), testEnv(tempDir()));
    expect(proxy.code).toBe(2);
    expect(proxy.stderr).toMatch(/^kitty: error KITTY_ERR_USAGE: kitty server: --trust-proxy takes the proxy's IP address, got "proxy\.example"; hint: /);

    const password = await runKittyHere(
      ['server', '--port', '0', '--data', tempDir(), '--user', 'ann:env:KITTY_TEST_NO_SUCH_VAR:acme'],
      tempDir(),
      testEnv(tempDir()),
    );
    expect(password.code).toBe(1);
    expect(password.stderr).toMatch(/^kitty: error KITTY_ERR_SERVER_USER_PASSWORD: .*KITTY_TEST_NO_SUCH_VAR is not set or empty; hint: set the variable/);
    expect(password.stderr).not.toContain('another port');

    const data = tempDir();
    mkdirSync(data, { recursive: true });
    const db = new Database(join(data, 'server.db'));
    db.pragma('user_version = 99');
    db.close();
    const schema = await runKittyHere(['server', '--port', '0', '--data', data], tempDir(), testEnv(tempDir()));
    expect(schema.code).toBe(1);
    expect(schema.stderr).toMatch(/^kitty: error KITTY_ERR_SERVER_SCHEMA_TOO_NEW: .*schema version 99.*; hint: upgrade kitty/);

    const help = await runKittyHere(['server', '--help'], tempDir(), testEnv(tempDir()));
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--user NAME:env:VAR:TEAM');
    expect(help.stdout).toContain('--user NAME:file:PATH:TEAM');
    expect(help.stdout).toContain('KITTY_SERVER_LIMITS');
    expect(help.stdout).toMatch(/maxConnections\s+1024/);
    expect(help.stdout).toMatch(/refreshReuseGraceMs\s+10000/);
  });
});

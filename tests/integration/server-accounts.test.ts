import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/gitdir.js';
import { type Answer, call, liveStream, login, openSocket, type StartOptions, startHostileServer } from '../helpers/hostile.js';
import { eachStore } from '../helpers/postgres.js';

/** CPU time the process has used, in clock ticks (utime + stime): work done, not time passed. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const guess = (url: string, username: string, password: string, from?: string): Promise<Answer> =>
  call(url, 'POST', '/api/v1/token/', { body: { username, password }, from });

/** Resolves with the order in which requests finished, once each has been written out in full. */
function loginsThenHealth(url: string, users: string[]): Promise<string[]> {
  const order: string[] = [];
  const target = new URL(url);
  const send = (name: string, method: string, path: string, body?: string) =>
    new Promise<{ written: Promise<void>; done: Promise<void> }>((resolve) => {
      const req = request({
        host: target.hostname,
        port: target.port,
        method,
        path,
        agent: false,
        headers: body ? { 'content-type': 'application/json' } : {},
      });
      const written = new Promise<void>((settle) => req.once('finish', () => settle()));
      const done = new Promise<void>((settle) =>
        req.once('response', (res) =>
          res.resume().once('end', () => {
            order.push(name);
            settle();
          }),
        ),
      );
      req.end(body);
      resolve({ written, done });
    });
  return (async () => {
    const logins = await Promise.all(users.map((user) => send(user, 'POST', '/api/v1/token/', JSON.stringify({ username: user, password: `${user}-pass` }))));
    await Promise.all(logins.map((login) => login.written));
    const health = await send('health', 'GET', '/api/health/');
    await Promise.all([...logins.map((login) => login.done), health.done]);
    return order;
  })();
}

describe.each(eachStore())('accounts ($name)', (store) => {
  const start = async (options: StartOptions = {}) => startHostileServer({ ...options, database: await store.database() });

  it('password checks run off the event loop: /api/health/ is answered while eight logins are being checked', async () => {
    const users = Array.from({ length: 8 }, (_, i) => `user${i}`);
    const server = await start({ users: users.map((user) => `${user}:${user}-pass:acme`) });
    const order = await loginsThenHealth(server.url, users);
    expect(order.indexOf('health'), order.join(' ')).toBeLessThan(4);
  });

  it('an unknown user costs the server what a wrong password costs (a dummy check), so the answer does not tell who exists', async () => {
    const server = await start({ limits: { loginFreeFailuresPerUser: 100, loginFreeFailuresPerAddress: 100 } });
    const pid = server.process.pid!;
    const spent = async (attempt: (i: number) => Promise<Answer>) => {
      const before = cpuTicks(pid);
      for (let i = 0; i < 12; i++) expect((await attempt(i)).status).toBe(401);
      return cpuTicks(pid) - before;
    };
    const wrong = await spent(() => guess(server.url, 'demo', 'not-it'));
    const unknown = await spent((i) => guess(server.url, `nobody-${i}`, 'not-it'));
    expect(wrong).toBeGreaterThan(0);
    expect(unknown, `unknown users ${unknown} ticks, wrong passwords ${wrong} ticks`).toBeGreaterThanOrEqual(wrong * 0.5);
  });

  it('failed logins back off per user and per address, refused cheaply; other requests and users are served meanwhile', async () => {
    const server = await start();
    const flood = await Promise.all([...Array.from({ length: 12 }, () => guess(server.url, 'demo', 'guess')), call(server.url, 'GET', '/api/health/')]);
    const health = flood.pop()!;
    expect(health.status).toBe(200);
    expect(flood.filter((answer) => answer.status === 401)).toHaveLength(5);
    const refused = flood.filter((answer) => answer.status === 429);
    expect(refused).toHaveLength(7);
    expect(refused[0]!.json).toMatchObject({ code: 'login_rate_limited' });
    expect(Number(refused[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    const lockedUser = await guess(server.url, 'demo', 'demo-pass', '127.0.0.2');
    expect(lockedUser.status).toBe(429);
    expect(lockedUser.json.error).toContain('for this user');
    expect((await guess(server.url, 'rival', 'rival-pass')).status).toBe(200);

    for (let i = 0; i < 20; i++) expect((await guess(server.url, `stranger-${i}`, 'guess', '127.0.0.3')).status).toBe(401);
    const lockedAddress = await guess(server.url, 'rival', 'rival-pass', '127.0.0.3');
    expect(lockedAddress.status).toBe(429);
    expect(lockedAddress.json.error).toContain('from this address');
    expect((await guess(server.url, 'rival', 'rival-pass', '127.0.0.4')).status).toBe(200);

    // each failure past the free ones doubles the wait
    const waits: number[] = [];
    for (let round = 0; round < 2; round++) {
      let answer = await guess(server.url, 'demo', 'guess', '127.0.0.5');
      while (answer.status === 429) {
        await sleep(200);
        answer = await guess(server.url, 'demo', 'guess', '127.0.0.5');
      }
      expect(answer.status).toBe(401);
      waits.push(Number((await guess(server.url, 'demo', 'guess', '127.0.0.5')).headers['retry-after']));
    }
    expect(waits[1]).toBeGreaterThan(waits[0]!);
  });

  it('behind a trusted proxy, failed logins back off per client it names; a peer that is no trusted proxy cannot name one', async () => {
    const server = await start({ limits: { loginFreeFailuresPerAddress: 2 }, args: ['--trust-proxy', '127.0.0.1'] });
    let n = 0;
    // a new user each time: only the per-address backoff is in play
    const via = (client: string, from?: string) =>
      call(server.url, 'POST', '/api/v1/token/', {
        body: { username: `u${n++}`, password: 'x' },
        headers: { 'x-forwarded-for': `203.0.113.9, ${client}` },
        from,
      });
    expect((await via('198.51.100.1')).status).toBe(401);
    expect((await via('198.51.100.1')).status).toBe(401);
    expect((await via('198.51.100.1')).status).toBe(429);
    // another client through the same proxy is an address of its own
    expect((await via('198.51.100.2')).status).toBe(401);
    // 127.0.0.6 is no trusted proxy: it is the address, whatever client it names
    expect((await via('198.51.100.3', '127.0.0.6')).status).toBe(401);
    expect((await via('198.51.100.4', '127.0.0.6')).status).toBe(401);
    expect((await via('198.51.100.5', '127.0.0.6')).status).toBe(429);
  });

  it('POST /api/v1/token/revoke/ ends the session: its tokens and its open WebSocket; other sessions go on', async () => {
    const server = await start();
    const session = await login(server.url);
    const other = await login(server.url);
    const socket = await openSocket(server.url, session.access);
    const revoke = await call(server.url, 'POST', '/api/v1/token/revoke/', { body: { refresh: session.refresh } });
    expect(revoke.status).toBe(200);
    expect(revoke.json).toEqual({ status: 'revoked' });
    expect(await socket.closed).toBe(4001);
    expect((await call(server.url, 'GET', '/api/v1/projects/', { token: session.access })).status).toBe(401);
    expect((await call(server.url, 'POST', '/api/v1/token/refresh/', { body: { refresh: session.refresh } })).status).toBe(401);
    expect((await call(server.url, 'GET', '/api/v1/projects/', { token: other.access })).status).toBe(200);
    expect((await call(server.url, 'POST', '/api/v1/token/revoke/', { body: { refresh: 'never-issued' } })).json).toEqual({ status: 'revoked' });
  });

  it('a replayed refresh token that was already rotated revokes its whole chain, open WebSocket included', async () => {
    const server = await start({ limits: { refreshReuseGraceMs: 0 } });
    const first = await login(server.url);
    const refresh = async (token: string) => call(server.url, 'POST', '/api/v1/token/refresh/', { body: { refresh: token } });
    const second = (await refresh(first.refresh)).json;
    const third = (await refresh(second.refresh)).json;
    expect((await call(server.url, 'GET', '/api/v1/projects/', { token: third.access })).status).toBe(200);
    const socket = await openSocket(server.url, third.access);
    const replay = await refresh(first.refresh);
    expect(replay.status).toBe(401);
    expect(replay.json).toMatchObject({ code: 'refresh_reused', error: expect.stringContaining('the session is revoked') });
    expect(await socket.closed).toBe(4001);
    expect((await call(server.url, 'GET', '/api/v1/projects/', { token: third.access })).status).toBe(401);
    expect((await refresh(third.refresh)).status).toBe(401);
  });

  it('a live stream ends when the access token that opened it expires, not before', async () => {
    const server = await start({ args: ['--access-lifetime', '1'] });
    const session = await login(server.url);
    const stream = await liveStream(server.url, session.access, '0190b6a2-0000-7000-8000-000000000001');
    await stream.ended;
    // ended at the expiry: the token that opened it is refused from then on
    expect((await call(server.url, 'GET', '/api/v1/projects/', { token: session.access })).status).toBe(401);
  });

  it('a rotated refresh token used again at once (two local processes refreshing together) is refused without ending the session', async () => {
    const server = await start();
    const first = await login(server.url);
    const second = (await call(server.url, 'POST', '/api/v1/token/refresh/', { body: { refresh: first.refresh } })).json;
    const again = await call(server.url, 'POST', '/api/v1/token/refresh/', { body: { refresh: first.refresh } });
    expect(again.status).toBe(401);
    expect(again.json.code).toBe('refresh_reused');
    expect((await call(server.url, 'GET', '/api/v1/projects/', { token: second.access })).status).toBe(200);
  });
});

describe('server secrets and files', () => {
  it('--user passwords from an environment variable or a file never appear in the process list', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'password'), 'from-a-file\n', { mode: 0o600 });
    const server = await startHostileServer({
      users: ['envuser:env:KITTY_TEST_PASSWORD:acme', `fileuser:file:${join(dir, 'password')}:acme`, 'plain:plain-pass:acme'],
      env: { KITTY_TEST_PASSWORD: 'from-the-environment' },
    });
    const commandLine = readFileSync(`/proc/${server.process.pid}/cmdline`, 'utf8');
    expect(commandLine).toContain('envuser:env:KITTY_TEST_PASSWORD:acme');
    expect(commandLine).not.toMatch(/from-the-environment|from-a-file/);
    expect((await login(server.url, 'envuser', 'from-the-environment')).team_slug).toBe('acme');
    expect((await login(server.url, 'fileuser', 'from-a-file')).team_slug).toBe('acme');
    expect((await login(server.url, 'plain', 'plain-pass')).team_slug).toBe('acme');
    await expect(startHostileServer({ users: ['envuser:env:KITTY_UNSET_PASSWORD:acme'] })).rejects.toThrow(
      /--user envuser: the environment variable KITTY_UNSET_PASSWORD is not set or empty/,
    );
  });

  it('the data directory is 0700 and the database files 0600, also when the directory existed with wider modes', async () => {
    const data = join(tempDir(), 'server-data');
    mkdirSync(data, { mode: 0o755 });
    const server = await startHostileServer({ data });
    await login(server.url);
    expect(statSync(data).mode & 0o777).toBe(0o700);
    for (const file of ['server.db', 'server.db-wal', 'server.db-shm']) expect((statSync(join(data, file)).mode & 0o777).toString(8), file).toBe('600');
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/queue/queue.js';
import { CLI, ROOT, gitdir, runKitty, runKittyAsync, tempDir, testEnv, wp } from '../helpers/gitdir.js';
import { F, hookedRepo, moves, queued, waitFor } from '../helpers/hooks.js';
import { refusingProxy } from '../helpers/proxy.js';
import { login, loginAsync, startServer } from '../helpers/server.js';

const NODE = 'abcdefabcdef';

function enqueue(home: string, count: number, tag = 'x'): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'tests/helpers/enqueue-worker.mjs'), String(count), tag, NODE], { env: testEnv(home), encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
}

/** A running server, and a state dir logged in to it holding `count` queued events. */
async function loggedInWithQueue(count: number, extraEnv: NodeJS.ProcessEnv = {}) {
  const server = await startServer();
  const home = tempDir();
  const env = testEnv(home, extraEnv);
  expect(login(server.url, tempDir(), env).code).toBe(0);
  enqueue(home, count);
  return { server, home, env };
}

function counts(env: NodeJS.ProcessEnv) {
  const queue = EventQueue.open({ env });
  try {
    return queue.counts();
  } finally {
    queue.close();
  }
}

describe('delivery to the reference server', () => {
  it('end to end: hooks queue, the flusher they start delivers, the server holds each event once', async () => {
    const server = await startServer();
    const repo = hookedRepo({ background: true });
    repo.commit('plan before login', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }), [`${F}/WP02.md`]: wp({ lane: 'planned' }) } });
    await waitFor(() => queued(repo), (list) => list.length >= 2);
    expect(queued(repo).every((event) => event.team_slug === 'local')).toBe(true);
    expect(login(server.url, repo.dir, repo.env).code).toBe(0);
    repo.commit('start WP01', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    repo.commit('review WP01', { files: { [`${F}/WP01.md`]: wp({ lane: 'for_review' }) } });
    await waitFor(() => counts(repo.env), (c) => c.delivered >= 4);
    expect(counts(repo.env)).toEqual({ pending: 0, delivered: 4, dead: 0 });
    const stored = server.events();
    expect(stored.map((e) => e.event_id).sort()).toEqual(queued(repo).map((e) => e.event_id).sort());
    expect(new Set(stored.map((e) => e.team_slug))).toEqual(new Set(['acme']));

    const flush = repo.kitty(['sync', 'flush', '--json']);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 0, pending: 0 });
    const uuid = stored[0]!.project_uuid;
    const credentials = JSON.parse(readFileSync(join(repo.home, 'credentials.json'), 'utf8')) as { access: string };
    const board = (await (await fetch(`${server.url}/api/v1/projects/${uuid}/board/`, { headers: { authorization: `Bearer ${credentials.access}` } })).json()) as {
      features: Record<string, Record<string, { lane: string }>>;
    };
    expect(board.features['001-demo']).toMatchObject({ WP01: { lane: 'for_review' }, WP02: { lane: 'planned' } });
    expect(moves(queued(repo))).toHaveLength(4);
  });

  it('a flusher killed with SIGKILL at random points during a 2,000-event flush loses and repeats nothing', async () => {
    const server = await startServer();
    const home = tempDir();
    const env = testEnv(home);
    const cwd = tempDir();
    expect(login(server.url, cwd, env).code).toBe(0);
    enqueue(home, 2000);
    for (let kill = 0; kill < 4; kill++) {
      const child = spawn(process.execPath, [CLI, 'sync', 'flush', '--timeout', '30'], { cwd, env, stdio: 'ignore' });
      await sleep(150 + Math.random() * 250);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const final = runKitty(['sync', 'flush', '--json', '--timeout', '60'], cwd, env);
    expect(final.code, final.stderr).toBe(0);
    expect(counts(env)).toEqual({ pending: 0, delivered: 2000, dead: 0 });
    const stored = server.events();
    expect(stored).toHaveLength(2000);
    expect(new Set(stored.map((e) => e.event_id)).size).toBe(2000);
  });

  it('server down while 50 commits are made: all delivered once it is back', async () => {
    const data = tempDir();
    const first = await startServer({ data });
    const repo = hookedRepo({ background: true });
    expect(login(first.url, repo.dir, repo.env).code).toBe(0);
    await first.stop();
    for (let i = 0; i < 50; i++) {
      repo.write(`${F}/WP${String(10 + (i % 25))}.md`, wp({ lane: i < 25 ? 'planned' : 'doing' }));
      repo.git('add', '-A');
      repo.git('commit', '-q', '-m', `move ${i}`);
    }
    const captured = await waitFor(() => counts(repo.env), (c) => c.pending >= 50);
    expect(captured.pending).toBe(50);
    const offline = repo.kitty(['sync', 'flush', '--timeout', '2', '--json']);
    expect(offline.code).toBe(1);
    expect(JSON.parse(offline.stdout).why_pending).toMatch(/ECONNREFUSED|cannot reach|websocket|fetch failed/);

    const second = await startServer({ data, port: first.port });
    const flush = repo.kitty(['sync', 'flush', '--timeout', '60', '--json']);
    expect(flush.code, flush.stdout + flush.stderr).toBe(0);
    expect(counts(repo.env)).toMatchObject({ pending: 0, delivered: 50 });
    expect(second.events()).toHaveLength(50);
  });

  it('a server that hangs (SIGSTOP) holds `sync flush` no longer than its --timeout, and loses nothing', async () => {
    const { server, env } = await loggedInWithQueue(300);
    server.process.kill('SIGSTOP');
    try {
      const hung = await runKittyAsync(['sync', 'flush', '--timeout', '2', '--json'], tempDir(), env);
      expect(hung.code).toBe(1);
      expect(JSON.parse(hung.stdout)).toMatchObject({ delivered: 0, pending: 300, why_pending: 'the server did not answer before the timeout' });
    } finally {
      server.process.kill('SIGCONT');
    }
    const flush = runKitty(['sync', 'flush', '--json'], tempDir(), env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 300, pending: 0 });
    expect(server.events()).toHaveLength(300);
  });

  it('draws a progress bar on a terminal\'s stderr only, and clears it before the summary', async () => {
    const { server, home, env } = await loggedInWithQueue(300);
    // util-linux `script` gives the command a real pseudo-terminal
    const tty = spawnSync('script', ['-qec', `'${process.execPath}' '${CLI}' sync flush`, '/dev/null'], { cwd: tempDir(), env, encoding: 'utf8' });
    expect(tty.status, tty.stdout + tty.stderr).toBe(0);
    expect(tty.stdout).toContain(`\r[${'#'.repeat(30)}] 300/300`);
    expect(tty.stdout).toMatch(/\r\x1b\[K\s*kitty sync flush: 300 delivered/);
    enqueue(home, 50, 'y');
    const piped = runKitty(['sync', 'flush'], tempDir(), env);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toBe('kitty sync flush: 50 delivered, 0 duplicate, 0 rejected; 0 still pending\n');
  });

  it('feeds the server clock to the Lamport clock: the next event is stamped after all the server holds', async () => {
    const { server, env: teammate } = await loggedInWithQueue(200);
    expect(runKitty(['sync', 'flush'], tempDir(), teammate).code).toBe(0);
    const repo = hookedRepo();
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    expect(login(server.url, repo.dir, repo.env).code).toBe(0);
    expect(repo.kitty(['sync', 'flush']).code).toBe(0);
    repo.commit('start', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    expect(queued(repo).map((event) => event.lamport_clock)).toEqual([1, 201]);
  });

  it('an event the server rejects becomes dead with the reason; the rest are delivered; retry-dead re-queues it', async () => {
    const server = await startServer();
    const home = tempDir();
    const env = testEnv(home);
    const cwd = tempDir();
    expect(login(server.url, cwd, env).code).toBe(0);
    enqueue(home, 5);
    const queue = EventQueue.open({ env });
    const [good] = queue.list().events;
    queue.enqueue([{ ...good!.envelope, event_id: '01JZZZZZZZZZZZZZZZZZZZZZZZ', payload: { ...good!.envelope.payload, wp_id: 'not-a-wp' } }]);
    queue.close();
    const flush = runKitty(['sync', 'flush', '--json'], cwd, env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 5, rejected: 1, pending: 0, dead: 1 });
    const dead = JSON.parse(runKitty(['events', 'list', '--state', 'dead', '--json'], cwd, env).stdout) as { event_id: string }[];
    expect(dead.map((e) => e.event_id)).toEqual(['01JZZZZZZZZZZZZZZZZZZZZZZZ']);
    const status = JSON.parse(runKitty(['sync', 'status', '--json'], cwd, env).stdout) as { last_error: string; dead: number };
    expect(status.dead).toBe(1);
    expect(status.last_error).toContain('payload.wp_id must match WPnn');
    expect(JSON.parse(runKitty(['sync', 'retry-dead', '--json'], cwd, env).stdout)).toEqual({ moved: 1 });
    expect(server.events()).toHaveLength(5);
  });

  it('falls back to batch HTTP and delivers the same way', async () => {
    const { server, env } = await loggedInWithQueue(1200, { KITTY_TRANSPORT: 'http' });
    const flush = runKitty(['sync', 'flush', '--json'], tempDir(), env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 1200, transport: 'http' });
    expect(server.events()).toHaveLength(1200);
  });

  it('behind a proxy that refuses WebSocket, the background flusher delivers over batch HTTP at once', async () => {
    const server = await startServer();
    const proxy = await refusingProxy(server.url);
    const repo = hookedRepo({ background: true });
    expect((await loginAsync(proxy.url, repo.dir, repo.env)).code).toBe(0);
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }), [`${F}/WP02.md`]: wp({ lane: 'planned' }) } });
    repo.commit('start WP01', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    await waitFor(() => counts(repo.env), (c) => c.delivered >= 3, 20_000);
    const logs = () => readdirSync(join(repo.home, 'logs')).map((name) => readFileSync(join(repo.home, 'logs', name), 'utf8')).join('');
    expect(counts(repo.env), logs()).toEqual({ pending: 0, delivered: 3, dead: 0 });
    expect(server.events().map((e) => e.event_id).sort()).toEqual(queued(repo).map((e) => e.event_id).sort());
    expect(proxy.upgrades).toBeGreaterThan(0);
    expect(proxy.forwarded).toContain('POST /api/v1/events/batch/');
    expect(readFileSync(join(repo.home, 'logs', 'flusher.log'), 'utf8')).toContain('the upgrade was answered HTTP 403: using batch HTTP');
  });
});

describe('when the flusher starts', () => {
  it('never starts when sync.auto_start is false: events stay queued for `kitty sync flush`', async () => {
    const server = await startServer();
    const repo = hookedRepo({ background: true });
    expect(login(server.url, repo.dir, repo.env).code).toBe(0);
    const config = join(repo.dir, '.kittify/config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('auto_start: true', 'auto_start: false'));
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    await waitFor(() => counts(repo.env), (c) => c.pending >= 1);
    await sleep(1500);
    expect(counts(repo.env)).toMatchObject({ pending: 1, delivered: 0 });
    expect(server.events()).toEqual([]);
    expect(JSON.parse(repo.kitty(['sync', 'status', '--json']).stdout)).toMatchObject({ pending: 1, flusher_pid: null, logged_in: true });
    expect(repo.kitty(['sync', 'flush']).code).toBe(0);
    expect(server.events()).toHaveLength(1);
  });
});

describe('auth', () => {
  it('a user added with `kitty server user add` (password on stdin) can log in', async () => {
    const data = tempDir();
    const add = runKitty(['server', 'user', 'add', 'alice', '--team', 'wonderland', '--data', data], tempDir(), testEnv(tempDir()), 'rabbit-hole\n');
    expect(add.code, add.stderr).toBe(0);
    const server = await startServer({ data });
    const home = tempDir();
    const result = runKitty(['auth', 'login', '--server', server.url, '--username', 'alice', '--password-stdin', '--json'], tempDir(), testEnv(home), 'rabbit-hole');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ username: 'alice', team_slug: 'wonderland' });
  });

  it('wrong password: KITTY_ERR_LOGIN_FAILED, nothing stored', async () => {
    const server = await startServer();
    const home = tempDir();
    const result = login(server.url, tempDir(), testEnv(home), 'nope');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^kitty: error KITTY_ERR_LOGIN_FAILED: login to .* as demo failed: wrong username or password; hint: /);
    expect(readdirSync(home)).not.toContain('credentials.json');
  });

  it('refreshes an expired access token silently; a refused refresh says to log in again', async () => {
    const data = tempDir();
    const server = await startServer({ data, args: ['--access-lifetime', '1'] });
    const home = tempDir();
    const env = testEnv(home);
    expect(login(server.url, tempDir(), env).code).toBe(0);
    const before = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8')) as { access: string };
    await sleep(1200);
    enqueue(home, 3);
    const flush = runKitty(['sync', 'flush', '--json'], tempDir(), env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 3 });
    const after = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8')) as { access: string };
    expect(after.access).not.toBe(before.access);

    await server.stop();
    await startServer({ data: tempDir(), port: server.port, args: ['--access-lifetime', '1'] });
    await sleep(1200);
    enqueue(home, 1, 'later');
    const refused = runKitty(['sync', 'flush', '--json', '--timeout', '10'], tempDir(), env);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).why_pending).toContain('run `kitty auth login`');
  });

  it('refuses a credentials file others can read, and reports a corrupt one', async () => {
    const server = await startServer();
    const home = tempDir();
    const env = testEnv(home);
    expect(login(server.url, tempDir(), env).code).toBe(0);
    const path = join(home, 'credentials.json');
    expect(readFileSync(path, 'utf8')).toContain('"team_slug": "acme"');
    chmodSync(path, 0o644);
    const insecure = runKitty(['auth', 'status'], tempDir(), env);
    expect(insecure.code).toBe(1);
    expect(insecure.stderr).toMatch(/^kitty: error KITTY_ERR_CREDENTIALS_INSECURE: .*mode 0644.*; hint: run `chmod 600 .*credentials\.json`/);
    chmodSync(path, 0o600);
    writeFileSync(path, '{ not json');
    const corrupt = runKitty(['sync', 'flush'], tempDir(), env);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/KITTY_ERR_CREDENTIALS_UNREADABLE: .* is not valid kitty credentials; hint: run `kitty auth login` again/);
  });

  it('never prints or logs a token, and takes the server URL from .kittyrc.json', async () => {
    const server = await startServer();
    const repo = hookedRepo({ background: true });
    writeFileSync(join(repo.dir, '.kittyrc.json'), JSON.stringify({ serverUrl: server.url }));
    const result = repo.kitty(['auth', 'login', '--username', 'demo', '--password-stdin', '--json'], { input: 'demo-pass' });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ server_url: server.url, username: 'demo', team_slug: 'acme' });
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    await waitFor(() => counts(repo.env), (c) => c.delivered >= 1);
    const { access, refresh } = JSON.parse(readFileSync(join(repo.home, 'credentials.json'), 'utf8')) as { access: string; refresh: string };
    const outputs = [
      result.stdout,
      result.stderr,
      repo.kitty(['sync', 'status', '--json']).stdout,
      repo.kitty(['auth', 'status', '--json']).stdout,
      repo.kitty(['events', 'list', '--state', 'all', '--json']).stdout,
      ...readdirSync(join(repo.home, 'logs')).map((name) => readFileSync(join(repo.home, 'logs', name), 'utf8')),
      readFileSync(join(repo.home, 'queue.db')).toString('latin1'),
    ];
    for (const text of outputs) {
      expect(text).not.toContain(access);
      expect(text).not.toContain(refresh);
    }
  });

  it('serves https with --tls-cert/--tls-key', async () => {
    const dir = tempDir();
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const server = await startServer({ args: ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')] });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const body = await new Promise<string>((resolve, reject) => {
      get(`${server.url}/api/health/`, { ca: readFileSync(join(dir, 'cert.pem')) }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(JSON.parse(body)).toMatchObject({ status: 'ok' });
  });

  it('refuses plain http to a remote host, and a server on a non-loopback address without TLS', () => {
    const repo = gitdir();
    const insecure = repo.kitty(['auth', 'login', '--server', 'http://kitty.example.com', '--username', 'demo', '--password-stdin'], { input: 'x' });
    expect(insecure.code).toBe(1);
    expect(insecure.stderr).toMatch(/^kitty: error KITTY_ERR_INSECURE_URL: plain http to kitty\.example\.com .*; hint: use https:\/\/kitty\.example\.com/);
    const server = repo.kitty(['server', '--host', '0.0.0.0', '--port', '0', '--data', tempDir()]);
    expect(server.code).toBe(1);
    expect(server.stderr).toMatch(/^kitty: error KITTY_ERR_SERVER_INSECURE_HOST: refusing to serve plain http on the non-loopback address 0\.0\.0\.0/);
  });
});

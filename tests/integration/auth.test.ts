import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { gitdir, runKittyHere, tempDir, testEnv, wp } from '../helpers/gitdir.js';
import { F, hookedRepo, waitFor } from '../helpers/hooks.js';
import { login, startRestartableServer, startServer } from '../helpers/server.js';
import { counts, enqueue } from '../helpers/sync.js';

describe('auth', () => {
  it('a user added with `kitty server user add` (password on stdin) can log in', async () => {
    const data = tempDir();
    const add = await runKittyHere(['server', 'user', 'add', 'alice', '--team', 'wonderland', '--data', data], tempDir(), testEnv(tempDir()), 'rabbit-hole\n');
    expect(add.code, add.stderr).toBe(0);
    const server = await startServer({ data });
    const home = tempDir();
    const result = await runKittyHere(
      ['auth', 'login', '--server', server.url, '--username', 'alice', '--password-stdin', '--json'],
      tempDir(),
      testEnv(home),
      'rabbit-hole',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ username: 'alice', team_slug: 'wonderland' });
  });

  it('wrong password: KITTY_ERR_LOGIN_FAILED, nothing stored', async () => {
    const server = await startServer();
    const home = tempDir();
    const result = await login(server.url, tempDir(), testEnv(home), 'nope');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^kitty: error KITTY_ERR_LOGIN_FAILED: login to .* as demo failed: wrong username or password; hint: /);
    expect(readdirSync(home)).not.toContain('credentials.json');
  });

  it('refreshes an expired access token silently; a refused refresh says to log in again', async () => {
    const data = tempDir();
    const server = await startRestartableServer({ data, args: ['--access-lifetime', '1'] });
    const home = tempDir();
    const env = testEnv(home);
    expect((await login(server.url, tempDir(), env)).code).toBe(0);
    const before = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8')) as { access: string };
    await sleep(1200);
    enqueue(home, 3);
    const flush = await runKittyHere(['sync', 'flush', '--json'], tempDir(), env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 3 });
    const after = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8')) as { access: string };
    expect(after.access).not.toBe(before.access);

    await server.stop();
    await startServer({ data: tempDir(), port: server.port, args: ['--access-lifetime', '1'] });
    await sleep(1200);
    enqueue(home, 1, 'later');
    const refused = await runKittyHere(['sync', 'flush', '--json', '--timeout', '10'], tempDir(), env);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).why_pending).toContain('run `kitty auth login`');
  });

  it('refuses a credentials file others can read, and reports a corrupt one', async () => {
    const server = await startServer();
    const home = tempDir();
    const env = testEnv(home);
    expect((await login(server.url, tempDir(), env)).code).toBe(0);
    const path = join(home, 'credentials.json');
    expect(readFileSync(path, 'utf8')).toContain('"team_slug": "acme"');
    chmodSync(path, 0o644);
    const insecure = await runKittyHere(['auth', 'status'], tempDir(), env);
    expect(insecure.code).toBe(1);
    expect(insecure.stderr).toMatch(/^kitty: error KITTY_ERR_CREDENTIALS_INSECURE: .*mode 0644.*; hint: run `chmod 600 .*credentials\.json`/);
    chmodSync(path, 0o600);
    writeFileSync(path, '{ not json');
    const corrupt = await runKittyHere(['sync', 'flush'], tempDir(), env);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/KITTY_ERR_CREDENTIALS_UNREADABLE: .* is not valid kitty credentials; hint: run `kitty auth login` again/);
  });

  it('never prints or logs a token, and takes the server URL from .kittyrc.json', async () => {
    const server = await startServer();
    const repo = await hookedRepo({ background: true });
    writeFileSync(join(repo.dir, '.kittyrc.json'), JSON.stringify({ serverUrl: server.url }));
    const result = await repo.run(['auth', 'login', '--username', 'demo', '--password-stdin', '--json'], { input: 'demo-pass' });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ server_url: server.url, username: 'demo', team_slug: 'acme' });
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    await waitFor(
      () => counts(repo.env),
      (c) => c.delivered >= 1,
    );
    const { access, refresh } = JSON.parse(readFileSync(join(repo.home, 'credentials.json'), 'utf8')) as { access: string; refresh: string };
    const outputs = [
      result.stdout,
      result.stderr,
      (await repo.run(['sync', 'status', '--json'])).stdout,
      (await repo.run(['auth', 'status', '--json'])).stdout,
      (await repo.run(['events', 'list', '--state', 'all', '--json'])).stdout,
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
    const made = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { encoding: 'utf8' },
    );
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

    // kitty itself, over https: refused while the certificate is not trusted, with the way to trust it
    const repo = gitdir();
    const loginArgs = ['auth', 'login', '--server', server.url, '--username', 'demo', '--password-stdin'];
    const untrusted = repo.kitty(loginArgs, { input: 'demo-pass' });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(
      /KITTY_ERR_SERVER_UNREACHABLE: cannot reach the sync server at https:\/\/127\.0\.0\.1:\d+ \(DEPTH_ZERO_SELF_SIGNED_CERT\); hint: .*NODE_EXTRA_CA_CERTS/,
    );
    const trusted = repo.kitty(loginArgs, { input: 'demo-pass', env: { NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') } });
    expect(trusted.code, trusted.stderr).toBe(0);
  });

  it('refuses plain http to a remote host, and a server on a non-loopback address without TLS', async () => {
    const repo = gitdir();
    const insecure = await repo.run(['auth', 'login', '--server', 'http://kitty.example.com', '--username', 'demo', '--password-stdin'], { input: 'x' });
    expect(insecure.code).toBe(1);
    expect(insecure.stderr).toMatch(/^kitty: error KITTY_ERR_INSECURE_URL: plain http to kitty\.example\.com .*; hint: use https:\/\/kitty\.example\.com/);
    const server = await repo.run(['server', '--host', '0.0.0.0', '--port', '0', '--data', tempDir()]);
    expect(server.code).toBe(1);
    expect(server.stderr).toMatch(/^kitty: error KITTY_ERR_SERVER_INSECURE_HOST: refusing to serve plain http on the non-loopback address 0\.0\.0\.0/);
  });
});

import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type Check, runDoctor } from '../../src/doctor/index.js';
import { resolveIdentity } from '../../src/identity/index.js';
import { gitdir, type Repo, tempDir, wp } from '../helpers/gitdir.js';

const FEATURE = 'kitty-specs/001-demo/tasks';

/**
 * A scripted server on 127.0.0.1: /api/health/ and /api/v1/ws-token/ answer what the test says; a
 * WebSocket upgrade is refused with 403.
 */
async function scripted(answers: { health: [number, string]; wsToken?: number }): Promise<{ url: string; paths: string[]; close(): Promise<void> }> {
  const paths: string[] = [];
  const send = (res: ServerResponse, status: number, body: string): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  const server = createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    req.resume();
    if (req.url === '/api/health/') return send(res, ...answers.health);
    if (req.url === '/api/v1/ws-token/') return send(res, answers.wsToken ?? 200, '{"ws_token":"w"}');
    send(res, 404, '{}');
  });
  server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return closing;
  };
  onTestFinished(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, close };
}

function credentials(repo: Repo, url: string, options: { expired?: boolean; mode?: number; text?: string } = {}): void {
  const at = options.expired ? Date.now() - 1000 : Date.now() + 3600_000;
  const text =
    options.text ??
    JSON.stringify({ server_url: url, username: 'demo', team_slug: 'acme', access: 'a', access_expires_at: at, refresh: 'r', refresh_expires_at: at });
  mkdirSync(repo.home, { recursive: true });
  writeFileSync(join(repo.home, 'credentials.json'), text, { mode: options.mode ?? 0o600 });
}

async function initialized(files: Record<string, string> = { 'README.md': 'x\n' }): Promise<Repo> {
  const repo = gitdir(files);
  await resolveIdentity({ cwd: repo.dir, env: repo.env, write: true });
  return repo;
}

const doctor = (repo: Repo, env: NodeJS.ProcessEnv = {}, cwd = repo.dir): Promise<Check[]> => runDoctor({ cwd, env: { ...repo.env, ...env } });
const named = (checks: Check[], name: string): Check | undefined => checks.find((check) => check.name === name);

describe('kitty doctor: the checks everything depends on end the run', () => {
  it('without git on PATH: node, then git failing with the fix', async () => {
    const repo = gitdir();
    const checks = await doctor(repo, { PATH: tempDir() });
    expect(checks.map((check) => check.name)).toEqual(['node', 'git']);
    expect(checks[0]).toMatchObject({ status: 'ok', fix: null, detail: `node ${process.versions.node} at ${process.execPath}` });
    expect(checks[1]).toEqual({ name: 'git', status: 'fail', detail: 'git was not found on PATH', fix: 'install git and put it on PATH' });
  });

  it('outside a work tree: the repository check fails and nothing after it runs', async () => {
    const repo = gitdir();
    const outside = tempDir();
    const checks = await doctor(repo, {}, outside);
    expect(checks.map((check) => `${check.name} ${check.status}`)).toEqual(['node ok', 'git ok', 'repository fail']);
    expect(checks[2]).toMatchObject({ detail: `not a git repository: ${outside}`, fix: 'run `kitty doctor` inside a git work tree' });
  });
});

describe('kitty doctor: what it finds in the repository and the state dir', () => {
  it('warns of waiting captures, unknown lanes, the worker problem (then acknowledges it) and a failed delivery', async () => {
    const repo = await initialized({ [`${FEATURE}/WP01.md`]: wp({ lane: 'limbo' }), [`${FEATURE}/WP02.md`]: wp({ lane: 'doing' }) });
    const kittyDir = join(repo.dir, '.git', 'kitty');
    mkdirSync(join(kittyDir, 'requests'), { recursive: true });
    writeFileSync(join(kittyDir, 'requests', '1'), 'hook post-commit\n');
    writeFileSync(join(kittyDir, 'requests', '2.tmp'), '');
    writeFileSync(join(kittyDir, 'problem'), 'capture postponed: disk full\n');
    mkdirSync(repo.home, { recursive: true });
    writeFileSync(join(repo.home, 'sync.json'), JSON.stringify({ last_error: 'HTTP 503', at: '2026-01-01T00:00:00Z', pending: true }));

    const checks = await doctor(repo);
    expect(named(checks, 'identity')).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^project .+ \([0-9a-f-]{36}\), node [0-9a-f]{12}$/) });
    expect(named(checks, 'captures')).toEqual({
      name: 'captures',
      status: 'warn',
      detail: '1 capture requests wait for the worker',
      fix: 'kitty events list (completes them)',
    });
    expect(named(checks, 'work packages')).toMatchObject({ status: 'warn', detail: `${FEATURE}/WP01.md: unknown lane "limbo"` });
    expect(named(checks, 'last capture')).toMatchObject({ status: 'warn', detail: 'the background hook worker met: capture postponed: disk full' });
    expect(named(checks, 'delivery')).toEqual({
      name: 'delivery',
      status: 'warn',
      detail: 'the last delivery attempt (2026-01-01T00:00:00Z) failed: HTTP 503; events wait and are retried by the next hook run or kitty command',
      fix: 'kitty sync flush (shows the error as it happens)',
    });
    expect(named(checks, 'server')).toEqual({ name: 'server', status: 'skip', detail: 'no sync server configured; events stay queued locally', fix: null });

    // shown once in full, the problem is acknowledged
    const again = await doctor(repo);
    expect(named(again, 'last capture')).toMatchObject({ status: 'ok', detail: 'the background hook worker met no problem' });
    expect(named(again, 'captures')?.status).toBe('warn');
  });

  it('fails the queue, the work packages and the login with their own hints when they cannot be read', async () => {
    const repo = await initialized();
    mkdirSync(join(repo.home, 'queue.db'), { recursive: true });
    symlinkSync('kitty-specs', join(repo.dir, 'kitty-specs'));
    writeFileSync(join(repo.home, 'sync.json'), JSON.stringify({ last_error: 'timeout', at: '2026-01-02T00:00:00Z', pending: false }));
    credentials(repo, 'http://127.0.0.1:9', { text: '{"access": 1}' });

    const checks = await doctor(repo);
    expect(named(checks, 'queue')).toMatchObject({ status: 'fail', detail: expect.stringContaining(join(repo.home, 'queue.db')) });
    expect(named(checks, 'queue')?.fix).not.toBeNull();
    expect(named(checks, 'work packages')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('ELOOP'),
      fix: 'check that kitty-specs/ is readable',
    });
    expect(named(checks, 'delivery')?.detail).toBe('the last delivery attempt (2026-01-02T00:00:00Z) failed: timeout');
    expect(named(checks, 'login')).toEqual({
      name: 'login',
      status: 'fail',
      detail: `the credentials file ${join(repo.home, 'credentials.json')} is not valid kitty credentials`,
      fix: 'run `kitty auth login` again',
    });
  });

  it('says how to fix credentials others can read', async () => {
    const repo = await initialized();
    credentials(repo, 'http://127.0.0.1:9', { mode: 0o644 });
    const path = join(repo.home, 'credentials.json');
    expect(named(await doctor(repo), 'login')).toEqual({
      name: 'login',
      status: 'fail',
      detail: `the credentials file ${path} can be read by others (mode 0644); refusing to use it`,
      fix: `run \`chmod 600 ${path}\`, or \`kitty auth logout\` and log in again`,
    });
  });

  it('fails the identity and the server, with the hint, when the uuid is lost', async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    repo.write('.kittify/config.yaml', 'project:\n  uuid: 12345\n  slug: demo\n');
    const checks = await doctor(repo);
    const configPath = join(repo.dir, '.kittify', 'config.yaml');
    const identity = named(checks, 'identity')!;
    expect(identity).toMatchObject({ status: 'fail', detail: expect.stringContaining(`project.uuid in ${configPath} cannot be read (seen "12345")`) });
    expect(identity.fix).toContain('remove the uuid line to start a new project');
    expect(named(checks, 'server')).toEqual({ ...identity, name: 'server' });
  });

  it('fails the server when the configured URL is not one, with its hint', async () => {
    const repo = await initialized();
    expect(named(await doctor(repo, { KITTY_SERVER_URL: 'ftp://example.com' }), 'server')).toEqual({
      name: 'server',
      status: 'fail',
      detail: 'the server URL must be http(s), got "ftp:" (from KITTY_SERVER_URL)',
      fix: 'use e.g. https://kitty.example.com',
    });
  });

  it("warns when husky's generated hooks are missing in this worktree", async () => {
    const repo = await initialized();
    mkdirSync(join(repo.dir, '.husky'));
    repo.git('config', 'core.hooksPath', '.husky/_');
    const checks = await doctor(repo);
    expect(named(checks, 'hooks dir')).toMatchObject({ status: 'ok', detail: `${join(repo.dir, '.husky', '_')} is writable (husky)` });
    expect(named(checks, 'husky')).toEqual({
      name: 'husky',
      status: 'warn',
      detail: `${join(repo.dir, '.husky', '_')} is missing, so no hook runs in this worktree`,
      fix: `run \`npx husky\` in ${repo.dir}`,
    });
  });
});

describe('kitty doctor: the hooks dir', () => {
  it('passes a core.hooksPath whose folders do not exist yet: `kitty hooks install` creates them', async () => {
    const repo = await initialized();
    repo.git('config', 'core.hooksPath', 'tools/git/hooks');
    const checks = await doctor(repo);
    expect(named(checks, 'hooks dir')).toEqual({ name: 'hooks dir', status: 'ok', detail: `${join(repo.dir, 'tools/git/hooks')} is writable`, fix: null });
    const install = repo.kitty(['hooks', 'install']);
    expect(install.code, install.stderr).toBe(0);
  });

  it('fails a core.hooksPath under a file, where no hook can be written', async () => {
    const repo = await initialized();
    repo.git('config', 'core.hooksPath', 'README.md/hooks');
    expect(named(await doctor(repo), 'hooks dir')).toEqual({
      name: 'hooks dir',
      status: 'fail',
      detail: `${join(repo.dir, 'README.md')} is not a directory`,
      fix: 'make the hooks dir writable (see `git rev-parse --git-path hooks`)',
    });
    expect(repo.kitty(['hooks', 'install']).code).not.toBe(0);
  });
});

describe('kitty doctor: the server', () => {
  it('fails a server that answers, but not healthy', async () => {
    const repo = await initialized();
    const server = await scripted({ health: [500, '{"status":"down"}'] });
    expect(named(await doctor(repo, { KITTY_SERVER_URL: server.url }), 'server')).toEqual({
      name: 'server',
      status: 'fail',
      detail: `${server.url} answered HTTP 500`,
      fix: 'check the server; queued events wait until it answers',
    });
  });

  it('is content with a healthy server without a version, and opens no WebSocket when not logged in', async () => {
    const repo = await initialized();
    const server = await scripted({ health: [200, '{"status":"ok"}'] });
    const checks = await doctor(repo, { KITTY_SERVER_URL: server.url });
    expect(named(checks, 'server')).toEqual({ name: 'server', status: 'ok', detail: `${server.url} answers (version ?)`, fix: null });
    expect(named(checks, 'websocket')).toBeUndefined();
    expect(server.paths).toEqual(['GET /api/health/']);
  });

  it('fails the WebSocket check when the session has ended', async () => {
    const repo = await initialized();
    const server = await scripted({ health: [200, '{"status":"ok","version":"9"}'] });
    credentials(repo, server.url, { expired: true });
    const checks = await doctor(repo);
    expect(named(checks, 'server')).toMatchObject({ status: 'ok', detail: `${server.url} answers (version 9)` });
    expect(named(checks, 'websocket')).toEqual({
      name: 'websocket',
      status: 'fail',
      detail: 'your sync session has ended (the refresh token expired)',
      fix: 'run `kitty auth login`',
    });
  });

  it('warns that batch HTTP takes over when the WebSocket token cannot be had', async () => {
    const repo = await initialized();
    const server = await scripted({ health: [200, '{"status":"ok"}'], wsToken: 500 });
    credentials(repo, server.url);
    expect(named(await doctor(repo), 'websocket')).toEqual({
      name: 'websocket',
      status: 'warn',
      detail: 'ws-token request answered HTTP 500; kitty falls back to batch HTTP after 10 failed connects',
      fix: 'check that the server and any proxy pass WebSocket upgrades to /ws/v1/events/',
    });
  });

  it.each([
    [502, '<html><body>Bad Gateway</body></html>'],
    [200, '<html>a web page</html>'],
  ])('says what a server that answers HTTP %i without JSON answered, never that it is unreachable', async (status, body) => {
    const repo = await initialized();
    const server = await scripted({ health: [status, body] });
    expect(named(await doctor(repo, { KITTY_SERVER_URL: server.url }), 'server')).toEqual({
      name: 'server',
      status: 'fail',
      detail: `${server.url} answered HTTP ${status}`,
      fix: 'check the server; queued events wait until it answers',
    });
  });

  it('calls a server nothing answers at unreachable, naming the system error', async () => {
    const repo = await initialized();
    const server = await scripted({ health: [200, '{}'] });
    const url = server.url;
    await server.close();
    expect(named(await doctor(repo, { KITTY_SERVER_URL: url }), 'server')).toEqual({
      name: 'server',
      status: 'fail',
      detail: `${url} is unreachable (ECONNREFUSED)`,
      fix: 'start the server or fix the URL (`kitty auth login --server URL`)',
    });
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCESS, fakeSync, REFRESH, writeCredentials } from '../helpers/fake-sync.js';
import { runKittyAsync, tempDir, testEnv } from '../helpers/gitdir.js';
import { login, startServer } from '../helpers/server.js';

function loggedIn(url: string) {
  const home = tempDir();
  const env = testEnv(home);
  const path = writeCredentials(home, url);
  const logout = (...args: string[]) => runKittyAsync(['auth', 'logout', ...args], tempDir(), env);
  return { home, env, path, logout };
}

describe('kitty auth logout', () => {
  it('ends the session on the reference server: its refresh token is refused afterwards', async () => {
    const server = await startServer();
    const home = tempDir();
    const env = testEnv(home);
    const cwd = tempDir();
    expect((await login(server.url, cwd, env)).code).toBe(0);
    const { refresh } = JSON.parse(readFileSync(join(home, 'credentials.json'), 'utf8')) as { refresh: string };
    const logout = await runKittyAsync(['auth', 'logout'], cwd, env);
    expect(logout.code, logout.stderr).toBe(0);
    expect(logout.stdout).toBe(`kitty: logged out of ${server.url} (session ended on the server, removed ${join(home, 'credentials.json')})\n`);
    expect(logout.stderr).toBe('');
    expect(existsSync(join(home, 'credentials.json'))).toBe(false);
    const reuse = await fetch(`${server.url}/api/v1/token/refresh/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh }),
    });
    expect(reuse.status).toBe(401);
  });

  it('sends POST /api/v1/token/revoke/ with {"refresh": …} and the access token as Bearer', async () => {
    const fake = await fakeSync({ revoke: { status: 200, body: { status: 'revoked' } } });
    const { path, logout } = loggedIn(fake.url);
    const result = await logout('--json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ logged_out: true, revoked: true, reason: null, credentials_file: path });
    expect(fake.requests).toEqual([
      { method: 'POST', path: '/api/v1/token/revoke/', authorization: `Bearer ${ACCESS}`, body: JSON.stringify({ refresh: REFRESH }) },
    ]);
    expect(existsSync(path)).toBe(false);
  });

  it('an older server without the endpoint (404): the credentials are forgotten all the same, and kitty says so', async () => {
    const fake = await fakeSync();
    const { path, logout } = loggedIn(fake.url);
    const result = await logout();
    expect(result.code).toBe(0);
    expect(existsSync(path)).toBe(false);
    expect(result.stdout).toBe(`kitty: logged out of ${fake.url} (removed ${path})\n`);
    expect(result.stderr).toMatch(
      new RegExp(
        `^kitty: warning: the server at ${fake.url} does not offer session revocation \\(HTTP 404: an older server\\); the session could not be ended there, its refresh token stays valid until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\n$`,
      ),
    );
  });

  it('a server that cannot be reached: the credentials are forgotten, and kitty says the session lives on', async () => {
    const fake = await fakeSync();
    await fake.close();
    const { path, logout } = loggedIn(fake.url);
    const result = await logout('--json');
    expect(result.code).toBe(0);
    expect(existsSync(path)).toBe(false);
    expect(JSON.parse(result.stdout)).toMatchObject({
      logged_out: true,
      revoked: false,
      reason: expect.stringMatching(/cannot reach the sync server at .* \(ECONNREFUSED\)/),
    });
    const again = await logout();
    expect(again.stdout).toBe('kitty: not logged in\n');
  });
});

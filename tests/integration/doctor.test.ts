import { describe, expect, it } from 'vitest';
import { gitdir, runKittyAsync } from '../helpers/gitdir.js';
import { hookedRepo } from '../helpers/hooks.js';
import { refusingProxy } from '../helpers/proxy.js';
import { login, startServer } from '../helpers/server.js';

interface Check {
  name: string;
  status: string;
  detail: string;
  fix: string | null;
}

describe('kitty doctor', () => {
  it('passes on a set-up repository and changes nothing', async () => {
    const repo = await hookedRepo();
    const before = repo.git('status', '--porcelain');
    const result = await repo.run(['doctor', '--json']);
    expect(result.code, result.stdout).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
    expect(report.ok).toBe(true);
    expect(report.checks.filter((check) => check.status === 'fail')).toEqual([]);
    expect(report.checks.find((check) => check.name === 'login')).toMatchObject({ status: 'warn', fix: 'kitty auth login --server URL' });
    expect(report.checks.map((check) => check.name)).toEqual([
      'node',
      'git',
      'repository',
      'hooks dir',
      'hooks',
      'identity',
      'queue',
      'captures',
      'work packages',
      'last capture',
      'login',
      'server',
    ]);
    expect(repo.git('status', '--porcelain')).toBe(before);
  });

  it('checks the login and that the server answers', async () => {
    const server = await startServer();
    const repo = await hookedRepo();
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    const ok = JSON.parse((await repo.run(['doctor', '--json'])).stdout) as { ok: boolean; checks: Check[] };
    expect(ok.ok).toBe(true);
    expect(ok.checks.filter((check) => check.status !== 'ok')).toEqual([]);
    expect(ok.checks.at(-1)).toMatchObject({ name: 'websocket', status: 'ok' });
    await server.stop();
    const down = await repo.run(['doctor', '--json']);
    expect(down.code).toBe(1);
    expect((JSON.parse(down.stdout) as { checks: Check[] }).checks.find((check) => check.name === 'server')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('unreachable'),
    });
  });

  it('warns, with the fix, when a proxy refuses the WebSocket, and says batch HTTP delivers instead', async () => {
    const server = await startServer();
    const proxy = await refusingProxy(server.url);
    const repo = await hookedRepo();
    expect((await login(proxy.url, repo.dir, repo.env)).code).toBe(0);
    const result = await runKittyAsync(['doctor', '--json'], repo.dir, repo.env);
    expect(result.code, result.stdout).toBe(0);
    const checks = (JSON.parse(result.stdout) as { checks: Check[] }).checks;
    expect(checks.find((check) => check.name === 'server')).toMatchObject({ status: 'ok' });
    expect(checks.find((check) => check.name === 'websocket')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^websocket connect failed: the upgrade was answered HTTP 403: .*batch HTTP$/),
      fix: expect.stringContaining('/ws/v1/events/'),
    });
    expect(proxy.upgrades).toBe(1);
  });

  it('fails with a fix for each problem of a bare repository', async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    const result = await repo.run(['doctor', '--json']);
    expect(result.code).toBe(1);
    const checks = (JSON.parse(result.stdout) as { checks: Check[] }).checks;
    expect(checks.find((check) => check.name === 'hooks')).toMatchObject({ status: 'fail', fix: 'kitty hooks install' });
    expect(checks.find((check) => check.name === 'identity')).toMatchObject({ status: 'warn', fix: expect.stringContaining('kitty init') });
    const human = await repo.run(['doctor']);
    expect(human.stdout).toMatch(/FAIL {2}hooks .*post-commit missing/);
    expect(human.stdout).toContain('fix: kitty hooks install');
  });
});

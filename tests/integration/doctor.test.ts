import { describe, expect, it } from 'vitest';
import { gitdir } from '../helpers/gitdir.js';
import { hookedRepo } from '../helpers/hooks.js';

interface Check {
  name: string;
  status: string;
  detail: string;
  fix: string | null;
}

describe('kitty doctor', () => {
  it('passes on a set-up repository and changes nothing', () => {
    const repo = hookedRepo();
    const before = repo.git('status', '--porcelain');
    const result = repo.kitty(['doctor', '--json']);
    expect(result.code, result.stdout).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: Check[] };
    expect(report.ok).toBe(true);
    expect(report.checks.filter((check) => check.status === 'fail' || check.status === 'warn')).toEqual([]);
    expect(report.checks.map((check) => check.name)).toEqual(['node', 'git', 'repository', 'hooks dir', 'hooks', 'identity', 'queue', 'captures', 'server', 'login']);
    expect(repo.git('status', '--porcelain')).toBe(before);
  });

  it('fails with a fix for each problem of a bare repository', () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    const result = repo.kitty(['doctor', '--json']);
    expect(result.code).toBe(1);
    const checks = (JSON.parse(result.stdout) as { checks: Check[] }).checks;
    expect(checks.find((check) => check.name === 'hooks')).toMatchObject({ status: 'fail', fix: 'kitty hooks install' });
    expect(checks.find((check) => check.name === 'identity')).toMatchObject({ status: 'warn', fix: expect.stringContaining('kitty init') });
    const human = repo.kitty(['doctor']);
    expect(human.stdout).toMatch(/FAIL {2}hooks .*post-commit missing/);
    expect(human.stdout).toContain('fix: kitty hooks install');
  });
});

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitdir, processesIn, tempDir, wp } from '../helpers/gitdir.js';
import { F, hookedRepo, waitFor } from '../helpers/hooks.js';

const WP1 = `${F}/WP01-api.md`;
const WP2 = `${F}/WP02-ui.md`;

function gitCommit(repo: { dir: string; env: NodeJS.ProcessEnv }, ...args: string[]) {
  const result = spawnSync('git', ['commit', '-q', ...args], { cwd: repo.dir, env: repo.env, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stderr;
}

function kittyLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('kitty:'));
}

/** Waits until the background worker has finished, then checks its problem marker. */
async function markerIs(repo: { dir: string; home: string }, present: boolean): Promise<void> {
  expect(
    await waitFor(
      () => processesIn(repo.dir).length,
      (count) => count === 0,
    ),
  ).toBe(0);
  const path = join(repo.dir, '.git', 'kitty', 'problem');
  expect(existsSync(path), existsSync(path) ? readFileSync(path, 'utf8') + readFileSync(join(repo.home, 'logs', 'hooks.log'), 'utf8') : 'no marker').toBe(
    present,
  );
}

describe('problems met by the background worker are shown by the next git command', () => {
  it('an unknown lane: the next git command prints one line naming it and kitty doctor; a clean capture clears it', async () => {
    const repo = await hookedRepo({ background: true });
    repo.write(WP1, wp({ lane: 'parked' }));
    repo.git('add', '-A');
    expect(kittyLines(gitCommit(repo, '-m', 'park'))).toEqual([]);
    await markerIs(repo, true);

    // an amend runs post-commit and post-rewrite: still one line for the one git command
    const amend = kittyLines(gitCommit(repo, '--amend', '-m', 'park it'));
    expect(amend).toEqual([`kitty: unknown lane "parked" in ${WP1} (passed through); see \`kitty doctor\``]);
    await markerIs(repo, true);

    repo.write(WP2, wp({ lane: 'planned' }));
    repo.git('add', '-A');
    expect(kittyLines(gitCommit(repo, '-m', 'plan WP02'))).toHaveLength(1);
    await markerIs(repo, false);
    repo.write('notes.md', 'x\n');
    repo.git('add', '-A');
    expect(kittyLines(gitCommit(repo, '-m', 'notes'))).toEqual([]);
  });

  it('prints the problem as written: a backslash in a lane stays a backslash, on one line', async () => {
    const repo = await hookedRepo({ background: true });
    repo.write(WP1, '---\nlane: par\\nked\n---\n# WP\n');
    repo.git('add', '-A');
    gitCommit(repo, '-m', 'park');
    await markerIs(repo, true);
    repo.write('notes.md', 'x\n');
    repo.git('add', '-A');
    const stderr = gitCommit(repo, '-m', 'notes');
    expect(kittyLines(stderr)).toEqual([`kitty: unknown lane "par\\nked" in ${WP1} (passed through); see \`kitty doctor\``]);
    expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('malformed WP frontmatter is named by the next commit', async () => {
    const repo = await hookedRepo({ background: true });
    repo.write(WP1, '---\nlane: [doing\ntitle: broken\n---\n# WP\n');
    repo.git('add', '-A');
    gitCommit(repo, '-m', 'broken');
    await markerIs(repo, true);
    repo.write('notes.md', 'x\n');
    repo.git('add', '-A');
    const lines = kittyLines(gitCommit(repo, '-m', 'notes'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(WP1);
    expect(lines[0]).toContain('KITTY_ERR_WP_MALFORMED');
    expect(lines[0]).toMatch(/see `kitty doctor`$/);
  });

  it('an unwritable KITTY_HOME postpones capture; the next commit says so, kitty doctor shows it once and clears it', async () => {
    const repo = await hookedRepo({ background: true });
    // a worker still running from the commit above would take the next request with its own, good state dir
    await markerIs(repo, false);
    const blocked = join(tempDir(), 'not-a-dir');
    writeFileSync(blocked, 'a file where the state dir should be\n');
    repo.env.KITTY_HOME = blocked;
    repo.write(WP1, wp({ lane: 'planned' }));
    repo.git('add', '-A');
    gitCommit(repo, '-m', 'plan');
    await markerIs(repo, true);
    expect(readFileSync(join(repo.dir, '.git', 'kitty', 'problem'), 'utf8')).toMatch(/^capture postponed: error KITTY_ERR_STATE_DIR: .*not-a-dir/);

    repo.write('notes.md', 'x\n');
    repo.git('add', '-A');
    const lines = kittyLines(gitCommit(repo, '-m', 'notes'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kitty: capture postponed: error KITTY_ERR_STATE_DIR: .*not-a-dir.*; see `kitty doctor`$/);

    // doctor reads the marker; its state dir is a good one, so only the marker is in question
    await markerIs(repo, true);
    const doctor = await repo.run(['doctor', '--json'], { env: { KITTY_HOME: tempDir() } });
    const checks = JSON.parse(doctor.stdout).checks as { name: string; status: string; detail: string }[];
    expect(checks.find((check) => check.name === 'last capture')).toMatchObject({ status: 'warn', detail: expect.stringContaining('capture postponed') });
    expect(existsSync(join(repo.dir, '.git', 'kitty', 'problem'))).toBe(false);
    const again = JSON.parse((await repo.run(['doctor', '--json'], { env: { KITTY_HOME: tempDir() } })).stdout).checks as { name: string; status: string }[];
    expect(again.find((check) => check.name === 'last capture')?.status).toBe('ok');
  });
});

describe('kitty doctor: work packages', () => {
  it('names malformed frontmatter and unknown lanes by file', async () => {
    const repo = gitdir({
      [WP1]: '---\nlane: [doing\n---\n# WP\n',
      [WP2]: wp({ lane: 'parked' }),
      [`${F}/WP03-ok.md`]: wp({ lane: 'done' }),
    });
    const doctor = await repo.run(['doctor', '--json']);
    const check = (JSON.parse(doctor.stdout).checks as { name: string; status: string; detail: string; fix: string }[]).find((c) => c.name === 'work packages');
    expect(check?.status).toBe('warn');
    expect(check?.detail).toContain(`KITTY_ERR_WP_MALFORMED`);
    expect(check?.detail).toContain(WP1);
    expect(check?.detail).toContain(`${WP2}: unknown lane "parked"`);
    expect(check?.detail).not.toContain('WP03');
    const text = await repo.run(['doctor']);
    expect(text.stdout).toMatch(/warn {2}work packages {1}.*WP01-api\.md/);
  });

  it('is ok for a clean tree', async () => {
    const repo = gitdir({ [WP1]: wp({ lane: 'planned' }) });
    const check = (JSON.parse((await repo.run(['doctor', '--json'])).stdout).checks as { name: string; status: string; detail: string }[]).find(
      (c) => c.name === 'work packages',
    );
    expect(check).toMatchObject({ status: 'ok', detail: '1 work packages, every lane known' });
  });
});

describe('a committed husky line calling kitty in a clone without kitty hooks', () => {
  it('is reported by kitty hooks status and kitty doctor', async () => {
    const repo = gitdir({ '.husky/post-commit': 'npx kitty hooks worker\n', '.husky/pre-commit': 'npx lint-staged\n' });
    const status = await repo.run(['hooks', 'status']);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain(".husky/post-commit call kitty, but kitty's hooks are not installed in this clone");
    expect(status.stderr).toContain('kitty hooks install');
    expect(status.stderr).not.toContain('pre-commit');
    expect(JSON.parse((await repo.run(['hooks', 'status', '--json'])).stdout).unwired_husky_calls).toEqual(['.husky/post-commit']);
    const hooks = (JSON.parse((await repo.run(['doctor', '--json'])).stdout).checks as { name: string; status: string; detail: string; fix: string }[]).find(
      (c) => c.name === 'hooks',
    );
    expect(hooks).toMatchObject({ status: 'fail', detail: expect.stringContaining('.husky/post-commit'), fix: expect.stringContaining('prepare') });

    expect((await repo.run(['hooks', 'install'])).code).toBe(0);
    const after = await repo.run(['hooks', 'status', '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ ok: true, unwired_husky_calls: [] });
  });
});

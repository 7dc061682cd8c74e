import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitdir, runKitty, tempDir, testEnv, wp } from '../helpers/gitdir.js';

describe('errors are one line with a stable code and a hint', () => {
  it('outside a repository: KITTY_ERR_NOT_A_REPO', () => {
    const dir = tempDir();
    const result = runKitty(['derive'], dir, testEnv(tempDir()));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(`kitty: error KITTY_ERR_NOT_A_REPO: not a git repository: ${dir}; hint: run kitty inside a git work tree, or create one with \`git init\`\n`);
  });

  it('without git on PATH: KITTY_ERR_GIT_MISSING', () => {
    const repo = gitdir();
    const empty = tempDir();
    const result = repo.kitty(['identity'], { env: { PATH: empty } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^kitty: error KITTY_ERR_GIT_MISSING: git was not found on PATH; hint: /);
  });

  it('a WP blob missing from the object store: KITTY_ERR_WP_UNREADABLE, warned and skipped', () => {
    const repo = gitdir();
    repo.commit('a', { files: { 'kitty-specs/f/tasks/WP01.md': wp({ lane: 'planned', body: 'unique body 1' }) } });
    repo.commit('b', { files: { 'kitty-specs/f/tasks/WP02.md': wp({ lane: 'planned', body: 'unique body 2' }) } });
    const blob = repo.git('rev-parse', 'HEAD:kitty-specs/f/tasks/WP02.md');
    rmSync(join(repo.dir, '.git/objects', blob.slice(0, 2), blob.slice(2)));
    const result = repo.kitty(['derive', '--dry-run', '--json']);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as unknown[]).length).toBe(1);
    expect(result.stderr).toContain(`KITTY_ERR_WP_UNREADABLE: cannot read kitty-specs/f/tasks/WP02.md@`);
    const strict = repo.kitty(['derive', '--dry-run', '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^kitty: error KITTY_ERR_WP_UNREADABLE: .*; hint: fetch the missing history/);
  });

  it('an unwritable state dir: KITTY_ERR_STATE_DIR', () => {
    const repo = gitdir();
    repo.commit('a', { files: { 'kitty-specs/f/tasks/WP01.md': wp({ lane: 'planned' }) } });
    const blocker = join(tempDir(), 'a-file');
    writeFileSync(blocker, 'a file where the state dir would go');
    const result = repo.kitty(['derive'], { env: { KITTY_HOME: join(blocker, 'state') } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^kitty: error KITTY_ERR_STATE_DIR: cannot create the kitty state dir .*; hint: set KITTY_HOME/);
  });

  it('bad usage: exit 2 with KITTY_ERR_USAGE and where to find help', () => {
    const repo = gitdir();
    const unknownFlag = repo.kitty(['derive', '--bogus']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/^kitty: error KITTY_ERR_USAGE: kitty derive: Unknown option '--bogus'.*; hint: see `kitty derive --help`/);
    const badState = repo.kitty(['events', 'list', '--state', 'sent']);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toContain('unknown --state "sent"');
    const unknown = repo.kitty(['events']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('did you mean: kitty events list?');
  });

  it('every command has --help on stdout with exit 0', () => {
    const repo = gitdir();
    for (const command of [['init'], ['identity'], ['derive'], ['events', 'list'], ['hooks', 'install'], ['hooks', 'uninstall'], ['hooks', 'status'], ['doctor'], ['board'], ['wp', 'move'], ['sync', 'verify'], ['sync', 'flush'], ['sync', 'status'], ['sync', 'retry-dead'], ['auth', 'login'], ['auth', 'logout'], ['auth', 'status'], ['server'], ['server', 'user', 'add']]) {
      const result = repo.kitty([...command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: kitty ${command.join(' ')}`));
    }
    expect(repo.kitty(['--help']).stdout).toContain('Commands:');
  });
});

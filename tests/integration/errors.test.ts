import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, gitdir, runKittyHere, tempDir, testEnv, wp } from '../helpers/gitdir.js';

describe('errors are one line with a stable code and a hint', () => {
  it('outside a repository: KITTY_ERR_NOT_A_REPO', async () => {
    const dir = tempDir();
    const result = await runKittyHere(['derive'], dir, testEnv(tempDir()));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `kitty: error KITTY_ERR_NOT_A_REPO: not a git repository: ${dir}; hint: run kitty inside a git work tree, or create one with \`git init\`\n`,
    );
  });

  it('without git on PATH: KITTY_ERR_GIT_MISSING', async () => {
    const repo = gitdir();
    const empty = tempDir();
    const result = await repo.run(['identity'], { env: { PATH: empty } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^kitty: error KITTY_ERR_GIT_MISSING: git was not found on PATH; hint: /);
  });

  it('a WP blob missing from the object store: KITTY_ERR_WP_UNREADABLE, warned and skipped', async () => {
    const repo = gitdir();
    repo.commit('a', { files: { 'kitty-specs/f/tasks/WP01.md': wp({ lane: 'planned', body: 'unique body 1' }) } });
    repo.commit('b', { files: { 'kitty-specs/f/tasks/WP02.md': wp({ lane: 'planned', body: 'unique body 2' }) } });
    const blob = repo.git('rev-parse', 'HEAD:kitty-specs/f/tasks/WP02.md');
    rmSync(join(repo.dir, '.git/objects', blob.slice(0, 2), blob.slice(2)));
    const result = await repo.run(['derive', '--dry-run', '--json']);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as unknown[]).length).toBe(1);
    expect(result.stderr).toContain(`KITTY_ERR_WP_UNREADABLE: cannot read kitty-specs/f/tasks/WP02.md@`);
    const strict = await repo.run(['derive', '--dry-run', '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^kitty: error KITTY_ERR_WP_UNREADABLE: .*; hint: fetch the missing history/);
  });

  it('an unwritable state dir: KITTY_ERR_STATE_DIR', async () => {
    const repo = gitdir();
    repo.commit('a', { files: { 'kitty-specs/f/tasks/WP01.md': wp({ lane: 'planned' }) } });
    const blocker = join(tempDir(), 'a-file');
    writeFileSync(blocker, 'a file where the state dir would go');
    const result = await repo.run(['derive'], { env: { KITTY_HOME: join(blocker, 'state') } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^kitty: error KITTY_ERR_STATE_DIR: cannot create the kitty state dir .*; hint: set KITTY_HOME/);
  });

  it('bad usage: exit 2 with KITTY_ERR_USAGE and where to find help', async () => {
    const repo = gitdir();
    const unknownFlag = await repo.run(['derive', '--bogus']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/^kitty: error KITTY_ERR_USAGE: kitty derive: Unknown option '--bogus'.*; hint: see `kitty derive --help`/);
    const badState = await repo.run(['events', 'list', '--state', 'sent']);
    expect(badState.code).toBe(2);
    expect(badState.stderr).toContain('unknown --state "sent"');
    for (const [typo, meant] of [
      [['hook', 'install'], 'hooks install'],
      [['evnets', 'list'], 'events list'],
      [['doctr'], 'doctor'],
    ] as const) {
      const result = await repo.run([...typo]);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`kitty: error KITTY_ERR_USAGE: unknown command "${typo.join(' ')}"; hint: did you mean \`kitty ${meant}\`?\n`);
    }
    expect((await repo.run(['frobnicate'])).stderr).toContain('hint: run `kitty --help` for the list of commands');
  });

  it('kitty alone, a bare group, help COMMAND, -v and version answer with exit 0', async () => {
    const repo = gitdir();
    const bare = await repo.run([]);
    expect([bare.code, bare.stdout]).toEqual([0, expect.stringContaining('Commands:')]);
    const group = await repo.run(['sync']);
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/^Usage: kitty sync <command>/);
    expect(group.stdout).toContain('sync flush');
    expect(group.stdout).not.toContain('sync run');
    const help = await repo.run(['help', 'derive']);
    expect([help.code, help.stdout]).toEqual([0, expect.stringMatching(/^Usage: kitty derive/)]);
    expect((await repo.run(['help', 'hooks'])).stdout).toMatch(/^Usage: kitty hooks <command>/);
    for (const flag of ['-v', 'version', '--version']) expect((await repo.run([flag])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('a reader that closes early ends the command quietly with exit 0, no stack trace', async () => {
    const repo = gitdir({ 'kitty-specs/f/tasks/WP01.md': wp({ lane: 'planned' }) });
    const child = spawn(process.execPath, [CLI, 'board'], { cwd: repo.dir, env: repo.env, stdio: ['ignore', 'pipe', 'pipe'] });
    // closed before kitty writes anything: every write it makes meets EPIPE
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('every command has --help on stdout with exit 0', async () => {
    const repo = gitdir();
    for (const command of [
      ['init'],
      ['identity'],
      ['derive'],
      ['events', 'list'],
      ['hooks', 'install'],
      ['hooks', 'uninstall'],
      ['hooks', 'status'],
      ['doctor'],
      ['board'],
      ['wp', 'move'],
      ['sync', 'verify'],
      ['sync', 'flush'],
      ['sync', 'status'],
      ['sync', 'retry-dead'],
      ['auth', 'login'],
      ['auth', 'logout'],
      ['auth', 'status'],
      ['server'],
      ['server', 'user', 'add'],
    ]) {
      const result = await repo.run([...command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: kitty ${command.join(' ')}`));
    }
    expect((await repo.run(['--help'])).stdout).toContain('Commands:');
  });
});

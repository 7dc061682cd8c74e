import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, gitdir, tempDir, wp } from '../helpers/gitdir.js';
import { F, hookedRepo, moves, queued } from '../helpers/hooks.js';

const WP1 = `${F}/WP01-api.md`;

describe('the first kitty hooks install in a repository with history', () => {
  it('says how many earlier transitions are not queued, offers kitty derive, and queues nothing', async () => {
    const repo = gitdir({ [WP1]: wp({ lane: 'planned' }) });
    repo.commit('start', { files: { [WP1]: wp({ lane: 'doing' }) } });
    repo.commit('done', { files: { [WP1]: wp({ lane: 'done' }) } });
    const install = await repo.run(['hooks', 'install']);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain(
      "kitty: 3 earlier transitions are in this repository's history and not queued; `kitty derive --dry-run` lists them, `kitty derive` queues them\n",
    );
    expect(queued(repo)).toEqual([]);

    const again = await repo.run(['hooks', 'install', '--json']);
    expect(JSON.parse(again.stdout).unqueued_transitions).toBeNull();
    expect((await repo.run(['derive'])).code).toBe(0);
    expect(moves(queued(repo))).toEqual(['WP01 ->planned', 'WP01 planned>doing', 'WP01 doing>done']);
  });

  it('says nothing of the kind where the history has no transition', async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    const install = await repo.run(['hooks', 'install', '--json']);
    expect(JSON.parse(install.stdout).unqueued_transitions).toBe(0);
    expect((await repo.run(['hooks', 'install'])).stdout).not.toContain('earlier transition');
  });
});

describe('the hook stub finds kitty when the path it was installed with is gone', () => {
  /** A `kitty` launcher that notes each run, then runs this checkout's CLI. */
  function launcher(path: string, note: string): void {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, `#!/bin/sh\necho "$*" >> '${note}'\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
  }

  function forgetInstalledCli(repo: { dir: string }): void {
    const stub = join(repo.dir, '.git', 'hooks', 'post-commit');
    writeFileSync(stub, readFileSync(stub, 'utf8').replace(/^kitty_cli=.*$/m, "kitty_cli='/gone/npx-cache/kitty/dist/cli/main.js'"));
  }

  it("falls back to the repository's node_modules/.bin/kitty, then to kitty on PATH", async () => {
    const repo = await hookedRepo({ files: { '.gitignore': 'node_modules/\n' } });
    forgetInstalledCli(repo);
    const note = join(tempDir(), 'runs.log');

    launcher(join(repo.dir, 'node_modules', '.bin', 'kitty'), note);
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    expect(readFileSync(note, 'utf8')).toBe('hooks worker\n');
    expect(moves(queued(repo))).toEqual(['WP01 ->planned']);

    rmSync(join(repo.dir, 'node_modules'), { recursive: true });
    const bin = tempDir();
    launcher(join(bin, 'kitty'), note);
    repo.env.PATH = `${bin}:${repo.env.PATH}`;
    repo.commit('start', { files: { [WP1]: wp({ lane: 'doing' }) } });
    expect(readFileSync(note, 'utf8')).toBe('hooks worker\nhooks worker\n');
    expect(moves(queued(repo))).toEqual(['WP01 ->planned', 'WP01 planned>doing']);
  });

  it('says in one line that it cannot find kitty when there is none, and the commit still succeeds', async () => {
    const repo = await hookedRepo();
    forgetInstalledCli(repo);
    repo.env.PATH = '/usr/bin:/bin';
    repo.write(WP1, wp({ lane: 'planned' }));
    repo.git('add', '-A');
    const commit = spawnSync('git', ['commit', '-q', '-m', 'plan'], { cwd: repo.dir, env: repo.env, encoding: 'utf8' });
    expect(commit.status).toBe(0);
    expect(commit.stderr).toBe(
      'kitty: the post-commit hook cannot find node or kitty (/gone/npx-cache/kitty/dist/cli/main.js); run `kitty hooks install` again, or `kitty hooks uninstall`\n',
    );
  });
});

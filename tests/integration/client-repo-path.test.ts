import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stubText } from '../../src/hooks/stub.js';
import { CLI, gitdir, tempDir, wp } from '../helpers/gitdir.js';

/** A repository at `<parent>/a\nb`, next to an innocent `<parent>/a` that a cut-short path names. */
function newlineRepo() {
  const parent = tempDir();
  const innocent = join(parent, 'a');
  mkdirSync(innocent);
  const repo = gitdir({ 'README.md': 'x\n' }, { dir: join(parent, 'a\nb') });
  return { repo, innocent };
}

describe('a repository path with a newline', () => {
  it.each(['init', 'identity', 'derive', 'hooks install', 'hooks status'])('`kitty %s` refuses it with a clear error and writes nowhere', async (command) => {
    const { repo, innocent } = newlineRepo();
    const result = await repo.run(command.split(' '));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `kitty: error KITTY_ERR_REPO_PATH_UNSUPPORTED: the repository path "${repo.dir.replace('\n', '\\n')}" contains a newline, which git's one-path-a-line output and kitty's request files cannot carry; ` +
        `hint: rename the directory, e.g. \`mv $'${repo.dir.replace('\n', '\\n')}' $'${repo.dir.replace('\n', '-')}'\`\n`,
    );
    expect(readdirSync(innocent)).toEqual([]);
    expect(existsSync(join(repo.dir, '.kittify'))).toBe(false);
    expect(existsSync(join(repo.dir, '.git', 'kitty'))).toBe(false);
  });

  it('the hooks say so on commit and record nothing, in the repository and in a linked worktree elsewhere', () => {
    const { repo, innocent } = newlineRepo();
    for (const hook of ['post-commit', 'post-merge', 'post-rewrite', 'post-applypatch'] as const) {
      const path = join(repo.dir, '.git', 'hooks', hook);
      writeFileSync(path, stubText(hook, process.execPath, CLI));
      chmodSync(path, 0o755);
    }
    const env = { ...repo.env, KITTY_HOOK_SYNC: '1' };
    const commitStderr = (cwd: string, message: string): string => {
      writeFileSync(join(cwd, `${message}.md`), wp({ lane: 'planned' }));
      execFileSync('git', ['add', '-A'], { cwd, env });
      const result = spawnSync('git', ['commit', '-q', '-m', message], { cwd, env, encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      return result.stderr;
    };
    const message = 'kitty: a path of this repository contains a newline, so nothing is captured here; `kitty hooks status` names it\n';
    expect(commitStderr(repo.dir, 'main')).toBe(message);

    const worktree = join(tempDir(), 'wt');
    repo.git('worktree', 'add', '-q', worktree);
    expect(commitStderr(worktree, 'linked')).toBe(message);

    expect(readdirSync(innocent)).toEqual([]);
    expect(existsSync(join(repo.dir, '.git', 'kitty'))).toBe(false);
  });
});

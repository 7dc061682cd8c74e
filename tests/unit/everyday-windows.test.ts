import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativePath, requestGitDir, samePath } from '../../src/hooks/git-dir.js';
import { stubText } from '../../src/hooks/stub.js';
import { tempDir } from '../helpers/gitdir.js';

describe('Windows-shaped paths the stub writes, as the worker reads them', () => {
  it('converts Git Bash and Cygwin drive paths on win32 only', () => {
    expect(nativePath('/c/Users/ada/repo/.git', 'win32')).toBe('C:/Users/ada/repo/.git');
    expect(nativePath('/cygdrive/d/work/.git/worktrees/x', 'win32')).toBe('D:/work/.git/worktrees/x');
    expect(nativePath('/c', 'win32')).toBe('C:/');
    expect(nativePath('C:/Users/ada/repo/.git', 'win32')).toBe('C:/Users/ada/repo/.git');
    expect(nativePath('//server/share/repo/.git', 'win32')).toBe('//server/share/repo/.git');
    expect(nativePath('/cache/repo/.git', 'win32')).toBe('/cache/repo/.git');
    expect(nativePath('/c/Users/ada/repo/.git', 'linux')).toBe('/c/Users/ada/repo/.git');
  });

  it('compares paths as Windows does: slashes, case, a trailing separator', () => {
    expect(samePath('/c/Users/Ada/repo/.git', 'C:\\Users\\ada\\repo\\.git\\', 'win32')).toBe(true);
    expect(samePath('/c/Users/Ada/repo/.git', 'C:/Users/ada/other/.git', 'win32')).toBe(false);
    expect(samePath('/home/Ada/.git', '/home/ada/.git', 'linux')).toBe(false);
  });

  it("takes git's absolute git dir for the worker's own worktree, and converts another worktree's", () => {
    expect(requestGitDir('/c/Users/ada/repo/.git', 'C:/Users/ada/repo/.git', 'win32')).toBe('C:/Users/ada/repo/.git');
    expect(requestGitDir(null, 'C:/Users/ada/repo/.git', 'win32')).toBe('C:/Users/ada/repo/.git');
    expect(requestGitDir('/c/Users/ada/repo/.git/worktrees/feature', 'C:/Users/ada/repo/.git', 'win32')).toBe('C:/Users/ada/repo/.git/worktrees/feature');
    expect(requestGitDir('/srv/repo/.git/worktrees/x', '/srv/repo/.git', 'linux')).toBe('/srv/repo/.git/worktrees/x');
  });
});

describe("the stub reads a worktree's .git written by Git for Windows", () => {
  // On Linux `C:/gd` is a relative path; what shows the stub took it as absolute is the request's
  // gitdir line: `C:/gd`, not `$PWD/C:/gd`.
  for (const [name, gitdirLine, commondirLine] of [
    ['forward slashes', 'C:/gd/worktrees/wt', 'C:/gd'],
    ['backslashes', 'C:\\gd\\worktrees\\wt', 'C:\\gd'],
  ] as const) {
    it(`accepts gitdir: and commondir with a drive letter (${name})`, () => {
      const work = tempDir();
      const sha = 'a'.repeat(40);
      // the directories the drive paths name, relative to the work tree on this machine
      mkdirSync(join(work, gitdirLine), { recursive: true });
      mkdirSync(join(work, commondirLine, 'refs', 'heads'), { recursive: true });
      writeFileSync(join(work, '.git'), `gitdir: ${gitdirLine}\n`);
      writeFileSync(join(work, gitdirLine, 'commondir'), `${commondirLine}\n`);
      writeFileSync(join(work, gitdirLine, 'HEAD'), 'ref: refs/heads/main\n');
      writeFileSync(join(work, commondirLine, 'refs', 'heads', 'main'), `${sha}\n`);
      mkdirSync(join(work, '.kittify'));
      writeFileSync(join(work, '.kittify', 'config.yaml'), 'project: {}\n');
      const stub = join(work, 'post-commit');
      // a node that does nothing, and a CLI file that exists: only the request is looked at
      writeFileSync(stub, stubText('post-commit', '/bin/true', stub), { mode: 0o755 });
      const { GIT_DIR: _gitDir, ...env } = process.env;
      const run = spawnSync('sh', [stub], { cwd: work, env: { ...env, KITTY_HOOK_SYNC: '1' }, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const requests = join(work, commondirLine, 'kitty', 'requests');
      const [file] = readdirSync(requests);
      const text = readFileSync(join(requests, file!), 'utf8');
      expect(text).toContain(`\ngitdir ${gitdirLine}\n`);
      expect(text).toContain(`\nhead ${sha}\n`);
      expect(file).toMatch(new RegExp(`^${sha}-\\d+-post-commit$`));
    });
  }
});

import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ErrorCode, KittyError } from '../errors/index.js';
import { newlineError, type RepoInfo } from '../git/repo.js';
import { runGit } from '../git/run.js';

/**
 * git prints the repository's paths one a line, so a newline inside one shifts the rest: what was
 * parsed then names other directories (a prefix of the real path, or a fragment taken for a relative
 * path), and writing there would write into someone else's files. Besides a newline in sight, the
 * traces of that shift are a git dir that is not absolute or a git dir without HEAD.
 */
export async function assertLinePaths(repo: RepoInfo, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const seen = [cwd, repo.root, repo.gitDir, repo.commonDir].find((path) => path.includes('\n'));
  if (seen) throw newlineError(seen);
  const shifted = !isAbsolute(repo.gitDir) || !existsSync(join(repo.gitDir, 'HEAD')) || !existsSync(join(repo.commonDir, 'HEAD'));
  if (!shifted) return;
  // asked alone, git names the whole path (only its trailing newline is git's own)
  const { stdout } = await runGit(['rev-parse', '--absolute-git-dir'], { cwd, env });
  const gitDir = stdout.replace(/\n$/, '');
  if (gitDir.includes('\n')) throw newlineError(gitDir);
  throw new KittyError(ErrorCode.REPO_PATH_UNSUPPORTED, `git named ${JSON.stringify(repo.gitDir)} as this repository's git dir, and it holds no HEAD`, {
    hint: 'check what git reports with `git rev-parse --show-toplevel --absolute-git-dir --git-common-dir`',
  });
}

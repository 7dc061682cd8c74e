import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { GIT_STATE_DIR } from '../constants.js';
import type { RepoInfo } from '../git/repo.js';
import { runGit } from '../git/run.js';

/** kitty's own folder in the common git dir: requests, tips, the worker lock, the problem marker. */
export function kittyDirOf(repo: RepoInfo): string {
  return join(repo.commonDir, GIT_STATE_DIR);
}

export interface HooksLocation {
  /** Where git looks for hooks (`git rev-parse --git-path hooks`: core.hooksPath and worktrees respected). */
  dir: string;
  /** core.hooksPath as configured, and the config scope it comes from (local, global, system, worktree). */
  hooksPath: { value: string; scope: string } | null;
  /** husky manages the hooks: kitty adds a line to `.husky/<hook>` instead of writing into `.husky/_`. */
  husky: { dir: string; generated: boolean } | null;
}

export async function locateHooks(repo: RepoInfo, env: NodeJS.ProcessEnv): Promise<HooksLocation> {
  const [pathOut, configOut] = await Promise.all([
    runGit(['rev-parse', '--git-path', 'hooks'], { cwd: repo.root, env }),
    runGit(['config', '--show-scope', '--get', 'core.hooksPath'], { cwd: repo.root, env, okCodes: [1] }),
  ]);
  const raw = pathOut.stdout.trim();
  const dir = isAbsolute(raw) ? raw : resolve(repo.root, raw);
  const [scope, ...value] = configOut.stdout.trim().split('\t');
  const hooksPath = configOut.code === 0 && scope ? { value: value.join('\t'), scope } : null;
  let husky: HooksLocation['husky'] = null;
  if (hooksPath) {
    // husky 9 sets core.hooksPath to .husky/_ (generated, git-ignored); husky 4-8 to .husky
    if (basename(dir) === '_' && basename(dirname(dir)) === '.husky') husky = { dir: dirname(dir), generated: existsSync(dir) };
    else if (basename(dir) === '.husky') husky = { dir, generated: existsSync(join(dir, '_')) };
  }
  return { dir, hooksPath, husky };
}

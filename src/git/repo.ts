import { isAbsolute, resolve } from 'node:path';
import { runGit } from './run.js';

export interface RepoInfo {
  /** Top of the work tree (where `.kittify/` lives). */
  root: string;
  /** This work tree's git dir (differs from commonDir in linked worktrees). */
  gitDir: string;
  /** Shared git dir of all worktrees of the repository. */
  commonDir: string;
}

export const REV_PARSE_REPO_ARGS = ['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir'] as const;

/** Pure: parses the three lines of `REV_PARSE_REPO_ARGS`, resolving a relative common dir against cwd. */
export function parseRepoInfo(stdout: string, cwd: string): RepoInfo {
  const [root = '', gitDir = '', common = ''] = stdout.split('\n');
  return { root, gitDir, commonDir: isAbsolute(common) ? common : resolve(cwd, common) };
}

export async function repoInfo(cwd: string, env?: NodeJS.ProcessEnv): Promise<RepoInfo> {
  const { stdout } = await runGit(REV_PARSE_REPO_ARGS, { cwd, env });
  return parseRepoInfo(stdout, cwd);
}

export async function originUrl(cwd: string, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  const { stdout, code } = await runGit(['config', '--get', 'remote.origin.url'], { cwd, env, okCodes: [1] });
  return code === 0 ? stdout.trim() || undefined : undefined;
}

/** The root commit(s) of HEAD, oldest first; empty for a repository without commits. */
export async function rootCommits(cwd: string, env?: NodeJS.ProcessEnv): Promise<string[]> {
  const { stdout } = await runGit(['rev-list', '--max-parents=0', 'HEAD', '--'], { cwd, env, okCodes: [128] });
  return stdout.split('\n').filter((line) => /^[0-9a-f]{40,64}$/.test(line)).sort();
}

export async function currentBranch(cwd: string, env?: NodeJS.ProcessEnv): Promise<string | null> {
  const { stdout, code } = await runGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd, env, okCodes: [1, 128] });
  return code === 0 ? stdout.trim() || null : null;
}

export async function hasCommits(cwd: string, env?: NodeJS.ProcessEnv): Promise<boolean> {
  const { code } = await runGit(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { cwd, env, okCodes: [1, 128] });
  return code === 0;
}

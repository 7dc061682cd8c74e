import { isAbsolute, resolve, sep } from 'node:path';
import { ErrorCode, KittyError } from '../errors/index.js';
import { runGit } from './run.js';

export interface RepoInfo {
  /** Top of the work tree (where `.kittify/` lives). */
  root: string;
  /** This work tree's git dir (differs from commonDir in linked worktrees). */
  gitDir: string;
  /** Shared git dir of all worktrees of the repository. */
  commonDir: string;
}

const REV_PARSE_REPO_ARGS = ['rev-parse', '--show-toplevel', '--absolute-git-dir', '--git-common-dir'] as const;

/** `$'…'` quoting: the one shell form in which a hint can show a newline and still be pasted. */
function ansiQuote(value: string): string {
  return `$'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n')}'`;
}

/** The directory whose own name holds the newline: the one to rename. */
function culprit(path: string): string {
  const parts = path.split(sep);
  const index = parts.findIndex((part) => part.includes('\n'));
  return index < 0 ? path : parts.slice(0, index + 1).join(sep);
}

export function newlineError(path: string): KittyError {
  const dir = culprit(path);
  return new KittyError(
    ErrorCode.REPO_PATH_UNSUPPORTED,
    `the repository path ${JSON.stringify(path)} contains a newline, which git's one-path-a-line output and kitty's request files cannot carry`,
    {
      hint: `rename the directory, e.g. \`mv ${ansiQuote(dir)} ${ansiQuote(dir.replaceAll('\n', '-'))}\``,
    },
  );
}

/**
 * Pure: parses the three lines of `REV_PARSE_REPO_ARGS`, resolving a relative common dir against
 * cwd. A newline inside a path would shift the lines and name other directories: refused.
 */
export function parseRepoInfo(stdout: string, cwd: string): RepoInfo {
  const lines = stdout.replace(/\n$/, '').split('\n');
  if (lines.length !== 3) {
    if (cwd.includes('\n')) throw newlineError(cwd);
    throw new KittyError(
      ErrorCode.REPO_PATH_UNSUPPORTED,
      `git named this repository's paths in ${lines.length} lines instead of 3: a directory name holds a newline`,
      {
        hint: 'rename the directory whose name holds a newline (see `git rev-parse --show-toplevel`), then rerun',
      },
    );
  }
  const [root = '', gitDir = '', common = ''] = lines;
  return { root, gitDir, commonDir: isAbsolute(common) ? common : resolve(cwd, common) };
}

export async function repoInfo(cwd: string, env: NodeJS.ProcessEnv): Promise<RepoInfo> {
  const { stdout } = await runGit(REV_PARSE_REPO_ARGS, { cwd, env });
  return parseRepoInfo(stdout, cwd);
}

export async function originUrl(cwd: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const { stdout, code } = await runGit(['config', '--get', 'remote.origin.url'], { cwd, env, okCodes: [1] });
  return code === 0 ? stdout.trim() || undefined : undefined;
}

/** The root commit(s) of HEAD, oldest first; empty for a repository without commits. */
export async function rootCommits(cwd: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const { stdout } = await runGit(['rev-list', '--max-parents=0', 'HEAD', '--'], { cwd, env, okCodes: [128] });
  return stdout
    .split('\n')
    .filter((line) => /^[0-9a-f]{40,64}$/.test(line))
    .sort();
}

export async function currentBranch(cwd: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const { stdout, code } = await runGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd, env, okCodes: [1, 128] });
  return code === 0 ? stdout.trim() || null : null;
}

export async function hasCommits(cwd: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const { code } = await runGit(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { cwd, env, okCodes: [1, 128] });
  return code === 0;
}

/** KiB the object store takes (packs and loose objects), from `git count-objects -v`. */
export async function objectStoreKib(cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  const { stdout } = await runGit(['count-objects', '-v'], { cwd, env });
  let kib = 0;
  for (const match of stdout.matchAll(/^(?:size|size-pack): (\d+)$/gm)) kib += Number(match[1]);
  return kib;
}

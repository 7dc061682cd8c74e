import { spawn } from 'node:child_process';
import { ErrorCode, errnoCode, KittyError } from '../errors/index.js';

interface GitOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Exit codes that are answers rather than failures (e.g. 1 for `config --get` of a missing key). */
  okCodes?: readonly number[];
  /** Written to git's stdin. */
  input?: string;
}

interface GitResult {
  stdout: string;
  code: number;
}

const NOT_A_REPO = /not a git repository/i;

export function gitMissingError(cause: unknown): KittyError {
  return new KittyError(ErrorCode.GIT_MISSING, 'git was not found on PATH', {
    cause,
    hint: 'install git (e.g. `apt-get install git`) or add it to PATH',
  });
}

export function notARepoError(cwd: string): KittyError {
  return new KittyError(ErrorCode.NOT_A_REPO, `not a git repository: ${cwd}`, {
    hint: 'run kitty inside a git work tree, or create one with `git init`',
  });
}

/**
 * Runs git directly rather than through simple-git: hooks depend on GIT_DIR/GIT_INDEX_FILE being
 * passed through untouched, and the hot path cannot afford simple-git's per-call overhead.
 */
export function runGit(args: readonly string[], options: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (cause) => {
      reject(errnoCode(cause) === 'ENOENT' ? gitMissingError(cause) : cause);
    });
    child.on('close', (code) => {
      const exit = code ?? 1;
      const stdout = Buffer.concat(out).toString('utf8');
      if (exit === 0 || options.okCodes?.includes(exit)) {
        resolve({ stdout, code: exit });
        return;
      }
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (NOT_A_REPO.test(stderr)) {
        reject(notARepoError(options.cwd));
        return;
      }
      reject(
        new KittyError(ErrorCode.GIT_FAILED, `git ${args[0] ?? ''} failed (exit ${exit}): ${firstLine(stderr)}`, {
          hint: "check the repository with `git status`; rerun with the same arguments to see git's full message",
        }),
      );
    });
  });
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

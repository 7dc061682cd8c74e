import { spawn } from 'node:child_process';

/**
 * `git commit` of exactly `paths`, with git's whole stderr kept: when a hook (commit-msg,
 * pre-commit) refuses the commit, its own words are what the user needs, not a summary.
 */
export function gitCommit(cwd: string, env: NodeJS.ProcessEnv, message: string, paths: readonly string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['commit', '-q', '-m', message, '--', ...paths], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/**
 * Paths the hook stub wrote come from the shell: under Git for Windows that is `/c/Users/…` (or
 * `/cygdrive/c/…`), which Node cannot open. The worker therefore trusts git's own absolute git
 * dir (`git rev-parse --absolute-git-dir`) for the worktree it runs in, and converts the rest.
 */

/** Pure: a shell path as Node on `platform` opens it (`/c/x` → `C:/x` on win32; unchanged elsewhere). */
export function nativePath(path: string, platform: NodeJS.Platform = process.platform): string {
  if (platform !== 'win32') return path;
  const msys = /^\/(?:cygdrive\/)?([a-zA-Z])(?=\/|$)(.*)$/.exec(path);
  return msys ? `${msys[1]!.toUpperCase()}:${msys[2] || '/'}` : path;
}

function comparable(path: string, platform: NodeJS.Platform): string {
  const slashes = platform === 'win32' ? path.replaceAll('\\', '/') : path;
  const trimmed = slashes.length > 1 ? slashes.replace(/\/+$/, '') : slashes;
  return platform === 'win32' ? trimmed.toLowerCase() : trimmed;
}

export function samePath(a: string, b: string, platform: NodeJS.Platform = process.platform): boolean {
  return comparable(nativePath(a, platform), platform) === comparable(nativePath(b, platform), platform);
}

/**
 * Pure: the git dir to resolve a request's HEAD in. The request of the worktree the worker runs in
 * gets git's absolute answer; one of another worktree (sharing the common dir) its own path, converted.
 */
export function requestGitDir(stubGitDir: string | null, workerGitDir: string, platform: NodeJS.Platform = process.platform): string {
  if (!stubGitDir || samePath(stubGitDir, workerGitDir, platform)) return workerGitDir;
  return nativePath(stubGitDir, platform);
}

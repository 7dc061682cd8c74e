import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { captureRange } from '../capture/index.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { LogCommit } from '../git/log.js';
import { type RepoInfo, repoInfo } from '../git/repo.js';
import { runGit } from '../git/run.js';
import { assertLinePaths } from '../identity/repo-path.js';
import { LockTimeoutError, withFileLock } from '../state/lock.js';
import { requestGitDir } from './git-dir.js';
import { kittyDirOf } from './location.js';
import { type CaptureRequest, listRequests, readRequest, removeRequest, setAside } from './requests.js';
import { readTips, recordTips } from './tips.js';

interface WorkerOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** How long to wait for a worker that is already running (0: do not wait). */
  waitMs?: number;
  /** Told the repository once git named it, so a failure later on can still be reported there. */
  onRepo?: (repo: RepoInfo) => void;
  /** The repository at `cwd`, when the caller already asked git (its paths checked). */
  repo?: RepoInfo;
}

interface WorkerResult {
  /** Work-tree root of the repository the requests came from. */
  root: string;
  requests: number;
  commits: number;
  queued: number;
  /** Another worker held the lock past `waitMs`; it will take these requests. */
  busy: boolean;
}

interface PendingSquash {
  base: string;
  olds: string[];
}

/** Rounds per run: requests written while a round works are taken by the next; the loop is bounded. */
const MAX_ROUNDS = 10;
const PARTIAL_GRACE_MS = 60_000;

/**
 * Turns recorded capture requests into queued events. One worker per repository at a time (a lock
 * in the common git dir that a killed worker cannot leave stuck); a request file is removed only
 * after its events are committed to the queue, so a killed worker loses nothing.
 */
export async function processPendingRequests(options: WorkerOptions): Promise<WorkerResult> {
  const repo = options.repo ?? (await repoInfo(options.cwd, options.env));
  options.onRepo?.(repo);
  if (!options.repo) await assertLinePaths(repo, options.cwd, options.env);
  const kittyDir = kittyDirOf(repo);
  const result: WorkerResult = { root: repo.root, requests: 0, commits: 0, queued: 0, busy: false };
  // A stub that saw this worker's lock did not start another worker; requests it wrote just before
  // the lock was released are found by looking again after releasing it.
  for (let pass = 0; pass < MAX_ROUNDS && listRequests(kittyDir).length > 0; pass++) {
    try {
      await withFileLock(join(kittyDir, 'worker.lock'), () => drain(repo, kittyDir, options, result), {
        timeoutMs: options.waitMs ?? 120_000,
        staleMs: 10 * 60_000,
      });
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      result.busy = true;
      break;
    }
  }
  return result;
}

async function drain(repo: RepoInfo, kittyDir: string, options: WorkerOptions, result: WorkerResult): Promise<void> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const requests: CaptureRequest[] = [];
    for (const path of listRequests(kittyDir)) {
      const request = readRequest(path);
      if (request === undefined) continue;
      if (request === 'partial') {
        // still being written by a stub; one that never finished (killed mid-write) is set aside
        if (Date.now() - mtimeMs(path) > PARTIAL_GRACE_MS) setAside(path);
        continue;
      }
      if (request === null) {
        setAside(path);
        options.log(`set aside unreadable capture request ${path}.bad`);
        continue;
      }
      requests.push(request);
    }
    if (requests.length === 0) return;
    await processRound(repo, kittyDir, requests, options, result);
    for (const request of requests) removeRequest(request.path);
    result.requests += requests.length;
  }
}

async function processRound(repo: RepoInfo, kittyDir: string, requests: CaptureRequest[], options: WorkerOptions, result: WorkerResult): Promise<void> {
  const rewritten = await rewriteGraph(requests, repo.root, options.env);
  const squashPath = join(kittyDir, 'squash.json');
  await captureSquashed(repo, requests, squashPath, options, result);
  const squash = readSquash(squashPath);
  let squashUsed = false;
  const rewrites = (commit: LogCommit): string[] | undefined => {
    const olds = rewritten(commit.sha);
    if (squash && commit.parents[0] === squash.base) {
      squashUsed = true;
      olds.push(...squash.olds);
    }
    return olds.length > 0 ? olds : undefined;
  };
  await captureHeads(repo, kittyDir, requests, rewrites, options, result);
  if (squashUsed) rmSync(squashPath, { force: true });
}

/**
 * Which commits each new commit replaces (rebase and amend pairs, an amend seen by post-commit),
 * followed through chains: a commit rewritten twice in one round still names the first original.
 */
async function rewriteGraph(requests: readonly CaptureRequest[], root: string, env: NodeJS.ProcessEnv): Promise<(sha: string) => string[]> {
  const direct = new Map<string, Set<string>>();
  const link = (to: string, from: string): void => {
    if (to === from) return;
    const olds = direct.get(to) ?? new Set<string>();
    olds.add(from);
    direct.set(to, olds);
  };
  for (const request of requests) for (const { from, to } of request.rewritten) link(to, from);
  for (const request of requests) {
    if (request.hook !== 'post-commit' || !request.head) continue;
    const old = await amendedFrom(request, root, env);
    if (old) link(request.head, old);
  }
  return (sha) => {
    const seen = new Set<string>();
    const stack = [...(direct.get(sha) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(direct.get(next) ?? []));
    }
    return [...seen];
  };
}

/**
 * The commits a `merge --squash` folded in are a teammate's history: captured as they were made,
 * so that the commit carrying them reconciles against those events instead of repeating them.
 */
async function captureSquashed(
  repo: RepoInfo,
  requests: readonly CaptureRequest[],
  squashPath: string,
  options: WorkerOptions,
  result: WorkerResult,
): Promise<void> {
  for (const request of requests) {
    if (request.squashed.length === 0 || !request.head) continue;
    const summary = await captureRange({ cwd: repo.root, repo, env: options.env, revisions: ['--no-walk', ...request.squashed], warn: options.log });
    result.commits += summary.commits;
    result.queued += summary.queued;
    writeFileAtomic(squashPath, JSON.stringify({ base: request.head, olds: request.squashed } satisfies PendingSquash));
  }
}

/** Captures the new work up to each requested head since the recorded tips, then moves the tips. */
async function captureHeads(
  repo: RepoInfo,
  kittyDir: string,
  requests: readonly CaptureRequest[],
  rewrites: (commit: LogCommit) => string[] | undefined,
  options: WorkerOptions,
  result: WorkerResult,
): Promise<void> {
  const { env, log } = options;
  const heads = new Map<string, string | null>();
  for (const request of requests) {
    const head = request.head ?? (await resolveHead(request, repo, env));
    if (head) heads.set(head, request.ref);
  }
  for (const [head, ref] of heads) {
    const tips = readTips(kittyDir);
    // no tips file: capture was never set up here, so take only this commit rather than all history
    const revisions = tips === null ? ['--no-walk', head] : ['--ignore-missing', head, '--not', ...tips];
    const branch = ref?.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : null;
    const summary = await captureRange({ cwd: repo.root, repo, env, revisions, branch, rewrites, warn: log });
    result.commits += summary.commits;
    result.queued += summary.queued;
    await recordTips(kittyDir, [head], repo.root, env);
    log(`captured ${summary.commits} commits up to ${head.slice(0, 7)}: ${summary.queued} events queued, ${summary.alreadyQueued} already queued`);
  }
}

/** The stub reads HEAD without git; where it could not (packed refs, reftable), git resolves it now. */
async function resolveHead(request: CaptureRequest, repo: RepoInfo, env: NodeJS.ProcessEnv): Promise<string | null> {
  const gitDir = requestGitDir(request.gitDir, repo.gitDir);
  const { stdout, code } = await runGit([`--git-dir=${gitDir}`, 'rev-parse', '--verify', '--quiet', `${request.ref ?? 'HEAD'}^{commit}`], {
    cwd: repo.root,
    env,
    okCodes: [1, 128],
  });
  return code === 0 ? stdout.trim() || null : null;
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}

/** A missing or broken record only costs the squash reconciliation, never the capture. */
function readSquash(path: string): PendingSquash | null {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<PendingSquash>;
    return typeof value.base === 'string' && Array.isArray(value.olds) ? (value as PendingSquash) : null;
  } catch {
    return null;
  }
}

/**
 * `git commit --amend` fires post-commit before post-rewrite; the ref's reflog already says
 * "commit (amend)", so the worker knows the old commit whichever request it sees first.
 */
async function amendedFrom(request: CaptureRequest, root: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  const ref = request.ref?.startsWith('refs/') ? request.ref : 'HEAD';
  const { stdout } = await runGit(['log', '-g', '-n', '2', '--format=%H%x1f%gs', ref, '--'], { cwd: root, env, okCodes: [128] });
  const [newest, previous] = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\x1f'));
  if (newest?.[0] === request.head && newest[1]?.startsWith('commit (amend)') && previous?.[0]) return previous[0];
  return null;
}

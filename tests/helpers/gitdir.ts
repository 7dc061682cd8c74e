import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { onTestFinished } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
// the built module, loaded by Node itself (vitest.config.ts keeps dist/ external): its
// import.meta.url is where the hooks and the background flusher find kitty's entry point
const RUN = pathToFileURL(join(ROOT, 'dist', 'cli', 'run.js')).href;

/** Temp dirs of the running tests, not yet removed. */
const liveDirs = new Set<string>();

/** A temp dir removed after the current test. */
export function tempDir(prefix = 'kitty-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  liveDirs.add(dir);
  onTestFinished(async () => {
    // a background hook worker may still be finishing inside the repo (tips, request files, logs)
    // while writing into the test's KITTY_HOME: every process in any of these dirs ends first
    await waitForProcessesIn([...liveDirs]);
    liveDirs.delete(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  });
  return dir;
}

/**
 * Waits until no process runs with its working directory inside `dirs` (Linux /proc; elsewhere a
 * no-op), then kills what is left: a flusher whose server the test already stopped would retry for a while.
 */
async function waitForProcessesIn(dirs: readonly string[], timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const inDirs = (): number[] => dirs.flatMap((dir) => processesIn(dir));
  while (Date.now() < deadline && inDirs().length > 0) {
    await new Promise((settle) => setTimeout(settle, 50));
  }
  for (const pid of inDirs()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Processes (other than this one) whose working directory is `dir` or inside it (Linux /proc). */
export function processesIn(dir: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)
    .map(Number)
    .filter((pid) => {
      try {
        const cwd = readlinkSync(`/proc/${pid}/cwd`);
        return cwd === dir || cwd.startsWith(`${dir}/`);
      } catch {
        return false;
      }
    });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Repo {
  dir: string;
  /** State dir of this test (KITTY_HOME); never the real home. */
  home: string;
  env: NodeJS.ProcessEnv;
  git(...args: string[]): string;
  write(path: string, content: string): void;
  commit(message: string, options?: { date?: string; files?: Record<string, string> }): string;
  kitty(args: string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string }): RunResult;
  /** kitty run inside the test's process: the same command, without a process start. */
  run(args: string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string }): Promise<RunResult>;
  kittyAsync(args: string[], options?: { env?: NodeJS.ProcessEnv; cwd?: string }): Promise<RunResult>;
}

export function testEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // CI runs set CI=true; tests decide for themselves whether kitty sees it
  const { CI: _ci, KITTY_HOOK_SYNC: _sync, ...inherited } = process.env;
  return {
    ...inherited,
    KITTY_HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Ada Tester',
    GIT_AUTHOR_EMAIL: 'ada@example.com',
    GIT_COMMITTER_NAME: 'Ada Tester',
    GIT_COMMITTER_EMAIL: 'ada@example.com',
    NO_COLOR: '1',
    // on Node 22 a background kitty would still be writing its compile cache into KITTY_HOME while the
    // test removes it; the cache is tested on its own (everyday-compile-cache)
    NODE_DISABLE_COMPILE_CACHE: '1',
    ...extra,
  };
}

export function runKitty(args: string[], cwd: string, env: NodeJS.ProcessEnv, input?: string): RunResult {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd, env, input, encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function sink(append: (text: string) => void): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      append(chunk.toString('utf8'));
      done();
    },
  });
}

/**
 * A kitty command run in-process, as `kitty` would run it: its exit code and what it printed. For
 * tests of what a command does; the tests where the process boundary is the point (hooks, the
 * background flusher, signals, the server) spawn kitty instead.
 */
export async function runKittyHere(args: string[], cwd: string, env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  const { main, reportError } = (await import(RUN)) as typeof import('../../src/cli/run.js');
  let stdout = '';
  let stderr = '';
  const stdin = Readable.from(input === undefined ? [] : [Buffer.from(input)]);
  const io = { stdout: sink((text) => (stdout += text)), stderr: sink((text) => (stderr += text)), stdin, env, cwd };
  let code: number;
  try {
    code = await main(args, io);
  } catch (error) {
    code = reportError(error, io);
  }
  return { code, stdout, stderr };
}

/** Like runKitty, but leaves the test's event loop free (for servers running inside the test). */
export function runKittyAsync(args: string[], cwd: string, env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    child.stdin?.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * A real git repository in a temp dir (user set, gpg signing and gc off) holding `files`, with
 * one commit when files are given, and its own KITTY_HOME.
 */
export function gitdir(files: Record<string, string> = {}, options: { dir?: string; home?: string } = {}): Repo {
  const dir = options.dir ?? tempDir('kitty-repo-');
  const home = options.home ?? tempDir('kitty-home-');
  const env = testEnv(home);
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' }).trim();
  mkdirSync(dir, { recursive: true });
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Ada Tester');
  git('config', 'user.email', 'ada@example.com');
  git('config', 'commit.gpgsign', 'false');
  git('config', 'gc.auto', '0');
  const write = (path: string, content: string): void => {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  };
  const commit = (message: string, opts: { date?: string; files?: Record<string, string> } = {}): string => {
    for (const [path, content] of Object.entries(opts.files ?? {})) write(path, content);
    git('add', '-A');
    const dateEnv = opts.date ? { GIT_AUTHOR_DATE: opts.date, GIT_COMMITTER_DATE: opts.date } : {};
    execFileSync('git', ['commit', '-q', '--allow-empty', '-m', message], { cwd: dir, env: { ...env, ...dateEnv } });
    return git('rev-parse', 'HEAD');
  };
  const repo: Repo = {
    dir,
    home,
    env,
    git,
    write,
    commit,
    kitty: (args, opts = {}) => runKitty(args, opts.cwd ?? dir, { ...env, ...opts.env }, opts.input),
    kittyAsync: (args, opts = {}) => runKittyAsync(args, opts.cwd ?? dir, { ...env, ...opts.env }),
    run: (args, opts = {}) => runKittyHere(args, opts.cwd ?? dir, { ...env, ...opts.env }, opts.input),
  };
  if (Object.keys(files).length > 0) commit('initial', { files });
  return repo;
}

export interface WpSpec {
  lane?: string;
  quoted?: boolean;
  title?: string;
  history?: { timestamp: string; lane: string; agent?: string; action?: string }[];
  body?: string;
}

/** A work-package markdown file as spec-kitty writes it. */
export function wp(spec: WpSpec): string {
  const lines = ['---', `work_package_id: WP`, `title: ${spec.title ?? 'A work package'}`];
  if (spec.lane !== undefined) lines.push(spec.quoted ? `lane: "${spec.lane}"` : `lane: ${spec.lane}`);
  if (spec.history) {
    lines.push('history:');
    for (const entry of spec.history) {
      lines.push(`  - timestamp: "${entry.timestamp}"`, `    lane: ${entry.lane}`);
      if (entry.agent) lines.push(`    agent: ${entry.agent}`);
      if (entry.action) lines.push(`    action: "${entry.action}"`);
    }
  }
  lines.push('---', '', spec.body ?? '# Work package', '');
  return lines.join('\n');
}

export const writeFile = writeFileSync;

import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, errnoCode, KittyError } from '../errors/index.js';
import { hasCommits, type RepoInfo, repoInfo } from '../git/repo.js';
import { runGit } from '../git/run.js';
import { resolveIdentity } from '../identity/index.js';
import { assertLinePaths } from '../identity/repo-path.js';
import { CLI_PATH } from '../package.js';
import { huskyFilesCallingKitty } from './husky-calls.js';
import { type HooksLocation, kittyDirOf, locateHooks } from './location.js';
import { CHAINED_SUFFIX, HOOK_NAMES, type HookName, isStub, STUB_VERSION, stubFacts, stubText } from './stub.js';
import { readTips, recordTips } from './tips.js';

const HUSKY_MARK = '# kitty (managed by `kitty hooks install`)';

type HookAction = 'installed' | 'updated' | 'chained' | 'husky-line';

interface InstallResult {
  skipped: string | null;
  hooksDir: string;
  husky: boolean;
  hooks: { name: HookName; action: HookAction; path: string; chained: string | null }[];
  notes: string[];
  /** On the first install: transitions in the history that are not queued (hooks capture only what comes next). */
  unqueued: number | null;
}

type HookState = 'installed' | 'chained' | 'stale' | 'missing' | 'foreign';

interface HookStatus {
  name: HookName;
  state: HookState;
  path: string;
  /** The user's hook kept and still run by kitty's stub. */
  chained: string | null;
  detail: string | null;
}

interface HooksContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
}

function huskyLine(hook: HookName): string {
  return `k="$(git rev-parse --git-common-dir 2>/dev/null)/kitty/hooks/${hook}"; if [ -x "$k" ]; then "$k" "$@"; fi ${HUSKY_MARK}`;
}

function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o755 });
  chmodSync(path, 0o755);
}

function globalHooksPathError(location: HooksLocation): KittyError {
  return new KittyError(
    ErrorCode.HOOKS_GLOBAL_PATH,
    `core.hooksPath is set in your ${location.hooksPath!.scope} git config (${location.hooksPath!.value}); kitty's hooks there would run for every repository`,
    {
      hint: `give this repository its own hooks dir with \`git config core.hooksPath .git/hooks\` and rerun \`kitty hooks install\`, or install into the shared dir anyway with \`kitty hooks install --force\``,
    },
  );
}

/**
 * What the history holds that hooks will not capture, counted by a dry run of `kitty derive`
 * (nothing is queued or written); null without history. Only the first install pays for it.
 */
async function unqueuedTransitions(repo: RepoInfo, env: NodeJS.ProcessEnv): Promise<number | null> {
  if (!(await hasCommits(repo.root, env))) return null;
  // loaded here: `hooks status` and `doctor` share this module and never derive
  const { captureRange } = await import('../capture/index.js');
  const summary = await captureRange({ cwd: repo.root, repo, env, dryRun: true, warn: () => undefined });
  return summary.queued;
}

/** Records the branch heads as captured; true when this is the repository's first install. */
async function baselineTips(repo: RepoInfo, env: NodeJS.ProcessEnv): Promise<boolean> {
  const kittyDir = kittyDirOf(repo);
  if (readTips(kittyDir) !== null) return false;
  const { stdout } = await runGit(['for-each-ref', '--format=%(objectname)', 'refs/heads'], { cwd: repo.root, env });
  const heads = stdout.split('\n').filter(Boolean);
  mkdirSync(kittyDir, { recursive: true });
  // hooks capture what is committed from now on (in a new repository: everything); `kitty derive`
  // backfills older history on demand
  await recordTips(kittyDir, heads, repo.root, env);
  return true;
}

function createStubDir(stubDir: string): void {
  try {
    mkdirSync(stubDir, { recursive: true });
  } catch (cause) {
    throw new KittyError(ErrorCode.HOOKS_DIR_UNWRITABLE, `cannot create the hooks dir ${stubDir}`, {
      cause,
      hint: `check its permissions: \`ls -ld ${stubDir}\``,
    });
  }
}

/** A user's hook is never overwritten: the stub runs it from `chainedPath`. */
function chainUserHook(path: string, chainedPath: string, existing: string): void {
  // `git lfs update --force` writes its hook over kitty's stub again: the same text is already chained
  if (read(chainedPath) === existing) {
    rmSync(path);
  } else if (existsSync(chainedPath)) {
    throw new KittyError(ErrorCode.HOOKS_CONFLICT, `both ${path} and ${chainedPath} exist and neither is kitty's`, {
      hint: `keep the hook you want as ${chainedPath}, remove ${path}, then rerun \`kitty hooks install\``,
    });
  } else {
    renameSync(path, chainedPath);
  }
}

function addHuskyLine(huskyPath: string, hook: HookName): void {
  const text = read(huskyPath);
  if (text === null) writeExecutable(huskyPath, `${huskyLine(hook)}\n`);
  else if (!text.includes(HUSKY_MARK)) writeFileSync(huskyPath, `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}${huskyLine(hook)}\n`);
}

function installHook(hook: HookName, stubDir: string, location: HooksLocation, result: InstallResult): void {
  const path = join(stubDir, hook);
  const existing = read(path);
  const chainedPath = `${path}${CHAINED_SUFFIX}`;
  let action: HookAction = existing === null ? 'installed' : 'updated';
  if (existing !== null && !isStub(existing)) {
    chainUserHook(path, chainedPath, existing);
    action = 'chained';
    if (existing.includes('git lfs')) result.notes.push(`git-lfs's ${hook} hook is kept as ${chainedPath} and still runs`);
  }
  try {
    writeExecutable(path, stubText(hook));
  } catch (cause) {
    throw new KittyError(ErrorCode.HOOKS_DIR_UNWRITABLE, `cannot write ${path}`, { cause, hint: `check the permissions of ${stubDir}` });
  }
  if (location.husky) {
    const huskyPath = join(location.husky.dir, hook);
    addHuskyLine(huskyPath, hook);
    result.hooks.push({ name: hook, action: 'husky-line', path: huskyPath, chained: null });
  } else {
    result.hooks.push({ name: hook, action, path, chained: action === 'chained' || existsSync(chainedPath) ? chainedPath : null });
  }
}

/**
 * Installs the hook stubs. Idempotent; never clobbers: a user's hook is kept as `<hook>.pre-kitty`
 * and chained, husky gets one marked line per hook, and a shared global hooks dir is refused.
 */
export async function installHooks(context: HooksContext & { force?: boolean; warn?: (line: string) => void }): Promise<InstallResult> {
  const { env } = context;
  const repo = await repoInfo(context.cwd, env);
  await assertLinePaths(repo, context.cwd, env);
  const location = await locateHooks(repo, env);
  const result: InstallResult = { skipped: null, hooksDir: location.dir, husky: location.husky !== null, hooks: [], notes: [], unqueued: null };
  if (env.CI && !context.force) {
    result.skipped = 'CI is set: hooks are not installed in CI (use --force to install anyway)';
    return result;
  }
  if (location.hooksPath && (location.hooksPath.scope === 'global' || location.hooksPath.scope === 'system') && !location.husky && !context.force) {
    throw globalHooksPathError(location);
  }
  await resolveIdentity({ cwd: repo.root, env, repo, write: true, warn: context.warn });

  const stubDir = location.husky ? join(kittyDirOf(repo), 'hooks') : location.dir;
  createStubDir(stubDir);
  for (const hook of HOOK_NAMES) installHook(hook, stubDir, location, result);
  if (location.husky && !location.husky.generated) {
    result.notes.push(
      `husky's generated dir ${join(location.husky.dir, '_')} is missing in this worktree, so no hook runs here yet: run \`npx husky\` in ${repo.root}`,
    );
  }
  if (await baselineTips(repo, env)) result.unqueued = await unqueuedTransitions(repo, env);
  return result;
}

/** Removes exactly what kitty wrote and puts a chained hook back byte for byte. */
export async function uninstallHooks(context: HooksContext): Promise<{ removed: string[]; restored: string[] }> {
  const repo = await repoInfo(context.cwd, context.env);
  await assertLinePaths(repo, context.cwd, context.env);
  const location = await locateHooks(repo, context.env);
  const removed: string[] = [];
  const restored: string[] = [];
  const stubDir = location.husky ? join(kittyDirOf(repo), 'hooks') : location.dir;
  for (const hook of HOOK_NAMES) {
    const path = join(stubDir, hook);
    const text = read(path);
    if (text !== null && isStub(text)) {
      unlinkSync(path);
      removed.push(path);
      if (existsSync(`${path}${CHAINED_SUFFIX}`)) {
        renameSync(`${path}${CHAINED_SUFFIX}`, path);
        restored.push(path);
      }
    }
    if (location.husky) {
      const huskyPath = join(location.husky.dir, hook);
      const huskyText = read(huskyPath);
      if (huskyText?.includes(HUSKY_MARK)) {
        const rest = huskyText
          .split('\n')
          .filter((line) => !line.includes(HUSKY_MARK))
          .join('\n');
        if (rest.trim() === '') rmSync(huskyPath);
        else writeFileSync(huskyPath, rest);
        removed.push(huskyPath);
      }
    }
  }
  return { removed, restored };
}

interface HooksStatusResult {
  hooksDir: string;
  husky: HooksLocation['husky'];
  hooks: HookStatus[];
  /** Committed husky hooks that call kitty while kitty's hooks are missing in this clone: they do nothing here. */
  unwiredHuskyCalls: string[];
}

export async function hooksStatus(context: HooksContext): Promise<HooksStatusResult> {
  const repo = await repoInfo(context.cwd, context.env);
  await assertLinePaths(repo, context.cwd, context.env);
  const location = await locateHooks(repo, context.env);
  const stubDir = location.husky ? join(kittyDirOf(repo), 'hooks') : location.dir;
  const hooks = HOOK_NAMES.map((name): HookStatus => {
    const path = join(stubDir, name);
    const text = read(path);
    const chainedPath = `${path}${CHAINED_SUFFIX}`;
    const chained = existsSync(chainedPath) ? chainedPath : null;
    if (text === null) return { name, state: 'missing', path, chained: null, detail: null };
    if (!isStub(text)) {
      const by = text.includes('git lfs') ? "git-lfs's hook (e.g. after `git lfs install --force`)" : 'a hook kitty did not write';
      return { name, state: 'foreign', path, chained, detail: `${by}: kitty does not capture here; \`kitty hooks install\` keeps it and chains it` };
    }
    const facts = stubFacts(text);
    const problems: string[] = [];
    if (!facts.node || !existsSync(facts.node)) problems.push(`node not found at ${facts.node}`);
    if (!facts.cli || !existsSync(facts.cli)) problems.push(`kitty not found at ${facts.cli}`);
    else if (facts.cli !== CLI_PATH) problems.push(`points at another kitty (${facts.cli})`);
    if (facts.version !== STUB_VERSION) problems.push(`stub version ${facts.version} (current ${STUB_VERSION})`);
    if (!(statSync(path).mode & 0o111)) problems.push('not executable');
    if (location.husky) {
      const huskyText = read(join(location.husky.dir, name));
      if (!huskyText?.includes(HUSKY_MARK)) problems.push(`no kitty line in ${join(location.husky.dir, name)}`);
    }
    if (problems.length > 0) return { name, state: 'stale', path, chained, detail: `${problems.join('; ')}: run \`kitty hooks install\`` };
    return { name, state: chained ? 'chained' : 'installed', path, chained, detail: null };
  });
  const unwiredHuskyCalls = hooks.some((hook) => hook.state === 'missing') ? huskyFilesCallingKitty(repo.root) : [];
  return { hooksDir: location.dir, husky: location.husky, hooks, unwiredHuskyCalls };
}

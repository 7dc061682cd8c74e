import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Credentials, readCredentials } from '../auth/credentials.js';
import { resolveServerUrl } from '../auth/server-url.js';
import { ErrorCode, isKittyError } from '../errors/index.js';
import { type RepoInfo, repoInfo } from '../git/repo.js';
import { runGit } from '../git/run.js';
import { hooksStatus } from '../hooks/install.js';
import { kittyDirOf, locateHooks } from '../hooks/location.js';
import { clearProblem, readProblem } from '../hooks/problem.js';
import { listRequests } from '../hooks/requests.js';
import { resolveIdentity } from '../identity/index.js';
import { EventQueue } from '../queue/queue.js';
import { readSyncRecord } from '../state/sync-record.js';
import { TransportError } from '../transport/types.js';
import { WsSession } from '../transport/ws-session.js';
import { fetchWsToken } from '../transport/ws-token.js';
import { checkWorkPackages } from './work-packages.js';

type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** The command or action that fixes a warn/fail. */
  fix: string | null;
}

const MIN_NODE_MAJOR = 20;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type Add = (name: string, status: CheckStatus, detail: string, fix?: string | null) => void;

/** What every check after the repository's needs. */
interface Context {
  env: NodeJS.ProcessEnv;
  repo: RepoInfo;
  add: Add;
}

/**
 * Dry-runs the whole capture path without changing anything: every check says what it saw and,
 * when it is not ok, the exact fix. Checks that the rest depends on (git, the repository) end the
 * run when they fail.
 */
export async function runDoctor(options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Check[]> {
  const checks: Check[] = [];
  const add: Add = (name, status, detail, fix = null) => void checks.push({ name, status, detail, fix });
  checkNode(add);
  if (!(await checkGit(options, add))) return checks;
  const repo = await checkRepository(options, add);
  if (!repo) return checks;
  const context: Context = { env: options.env, repo, add };
  for (const check of [checkHooksDir, checkHooks, checkIdentity, checkQueue, checkCaptures, checkWorkPackageFiles, checkLastCapture, checkDelivery])
    await check(context);
  const credentials = checkLogin(context);
  await checkServer(context, credentials);
  return checks;
}

/** A failure's own hint when it has one, else the given fix. */
function hintOr(error: unknown, fix: string | null): string | null {
  return isKittyError(error) && error.hint ? error.hint : fix;
}

function checkNode(add: Add): void {
  const major = Number(process.versions.node.split('.')[0]);
  add(
    'node',
    major >= MIN_NODE_MAJOR ? 'ok' : 'fail',
    `node ${process.versions.node} at ${process.execPath}`,
    major >= MIN_NODE_MAJOR ? null : `install Node.js ${MIN_NODE_MAJOR} or newer`,
  );
}

async function checkGit(options: { cwd: string; env: NodeJS.ProcessEnv }, add: Add): Promise<boolean> {
  try {
    const { stdout } = await runGit(['--version'], options);
    add('git', 'ok', stdout.trim());
    return true;
  } catch (error) {
    add('git', 'fail', message(error), 'install git and put it on PATH');
    return false;
  }
}

async function checkRepository(options: { cwd: string; env: NodeJS.ProcessEnv }, add: Add): Promise<RepoInfo | null> {
  try {
    const repo = await repoInfo(options.cwd, options.env);
    add('repository', 'ok', repo.root);
    return repo;
  } catch (error) {
    add('repository', 'fail', message(error), 'run `kitty doctor` inside a git work tree');
    return null;
  }
}

async function checkHooksDir({ env, repo, add }: Context): Promise<void> {
  try {
    const location = await locateHooks(repo, env);
    // `kitty hooks install` creates the dir and its missing parents: the nearest folder that exists must be writable
    let target = location.dir;
    while (!existsSync(target) && dirname(target) !== target) target = dirname(target);
    if (!statSync(target).isDirectory()) throw new Error(`${target} is not a directory`);
    accessSync(target, constants.W_OK);
    add('hooks dir', 'ok', `${location.dir} is writable${location.husky ? ' (husky)' : ''}`);
    if (location.husky && !location.husky.generated) {
      add('husky', 'warn', `${join(location.husky.dir, '_')} is missing, so no hook runs in this worktree`, `run \`npx husky\` in ${repo.root}`);
    }
  } catch (error) {
    add('hooks dir', 'fail', message(error), 'make the hooks dir writable (see `git rev-parse --git-path hooks`)');
  }
}

async function checkHooks({ env, repo, add }: Context): Promise<void> {
  try {
    const status = await hooksStatus({ cwd: repo.root, env });
    const broken = status.hooks.filter((hook) => hook.state !== 'installed' && hook.state !== 'chained');
    if (status.unwiredHuskyCalls.length > 0)
      add(
        'hooks',
        'fail',
        `${status.unwiredHuskyCalls.join(', ')} call kitty, but kitty's hooks are not installed in this clone`,
        'kitty hooks install (and add it to package.json "prepare" next to husky, so every clone runs it)',
      );
    else if (broken.length === 0) add('hooks', 'ok', status.hooks.map((hook) => `${hook.name} ${hook.state}`).join(', '));
    else add('hooks', 'fail', broken.map((hook) => `${hook.name} ${hook.state}${hook.detail ? ` (${hook.detail})` : ''}`).join('; '), 'kitty hooks install');
  } catch (error) {
    add('hooks', 'fail', message(error), 'kitty hooks install');
  }
}

async function checkIdentity({ env, repo, add }: Context): Promise<void> {
  try {
    const identity = await resolveIdentity({ cwd: repo.root, env, repo, write: false });
    if (identity.source === 'file') add('identity', 'ok', `project ${identity.projectSlug} (${identity.projectUuid}), node ${identity.nodeId}`);
    else
      add(
        'identity',
        'warn',
        `no project identity in ${identity.configPath}; events would use an in-memory one`,
        'kitty init, then commit .kittify/config.yaml',
      );
  } catch (error) {
    add('identity', 'fail', message(error), hintOr(error, 'kitty init'));
  }
}

async function checkQueue({ env, add }: Context): Promise<void> {
  try {
    const queue = EventQueue.open({ env });
    try {
      const counts = queue.counts();
      add('queue', 'ok', `${queue.path}: ${counts.pending} pending, ${counts.delivered} delivered, ${counts.dead} dead`);
    } finally {
      queue.close();
    }
  } catch (error) {
    add('queue', 'fail', message(error), hintOr(error, 'set KITTY_HOME to a writable directory'));
  }
}

async function checkCaptures({ repo, add }: Context): Promise<void> {
  const waiting = listRequests(kittyDirOf(repo)).length;
  if (waiting > 0) add('captures', 'warn', `${waiting} capture requests wait for the worker`, 'kitty events list (completes them)');
  else add('captures', 'ok', 'no capture request is waiting');
}

async function checkWorkPackageFiles({ repo, add }: Context): Promise<void> {
  try {
    const found = checkWorkPackages(repo.root);
    if (found.problems.length === 0) add('work packages', 'ok', `${found.count} work packages, every lane known`);
    else
      add(
        'work packages',
        'warn',
        found.problems.join('; '),
        'fix the files named (lanes: `kitty wp move WPxx LANE`) and commit them; until then captures skip or pass them through',
      );
  } catch (error) {
    add('work packages', 'fail', message(error), 'check that kitty-specs/ is readable');
  }
}

/** Shown here in full, the problem is acknowledged: hooks stop printing it. */
async function checkLastCapture({ repo, add }: Context): Promise<void> {
  const problem = readProblem(kittyDirOf(repo));
  if (problem === null) return add('last capture', 'ok', 'the background hook worker met no problem');
  add(
    'last capture',
    'warn',
    `the background hook worker met: ${problem}`,
    `see ${join(kittyDirOf(repo), 'problem')} and $KITTY_HOME/logs/hooks.log; fix the cause, then commit again`,
  );
  clearProblem(kittyDirOf(repo));
}

async function checkDelivery({ env, add }: Context): Promise<void> {
  const sync = readSyncRecord(env);
  if (!sync?.last_error) return;
  add(
    'delivery',
    'warn',
    `the last delivery attempt (${sync.at}) failed: ${sync.last_error}${sync.pending ? '; events wait and are retried by the next hook run or kitty command' : ''}`,
    'kitty sync flush (shows the error as it happens)',
  );
}

function checkLogin({ env, add }: Context): Credentials | null {
  try {
    const credentials = readCredentials(env);
    if (credentials) add('login', 'ok', `logged in to ${credentials.server_url} as ${credentials.username} (team ${credentials.team_slug})`);
    else add('login', 'warn', 'not logged in, so sync is off and events stay queued locally', 'kitty auth login --server URL');
    return credentials;
  } catch (error) {
    add('login', 'fail', message(error), hintOr(error, 'kitty auth login'));
    return null;
  }
}

/** The server the events go to (the login's, else the configured one), its health, then one WebSocket. */
async function checkServer({ env, repo, add }: Context, credentials: Credentials | null): Promise<void> {
  let server: string | null = credentials?.server_url ?? null;
  try {
    const identity = await resolveIdentity({ cwd: repo.root, env, repo, write: false });
    server ??= (await resolveServerUrl({ env, cwd: repo.root, projectUrl: identity.serverUrl }))?.url ?? null;
  } catch (error) {
    return add('server', 'fail', message(error), hintOr(error, null));
  }
  if (!server) return add('server', 'skip', 'no sync server configured; events stay queued locally', null);
  if ((await checkHealth(server, add)) && credentials) await checkWebSocket(env, add);
}

async function checkHealth(server: string, add: Add): Promise<boolean> {
  try {
    const response = await fetch(`${server}/api/health/`, { signal: AbortSignal.timeout(5_000) });
    // a proxy's HTML error page answered too: it is an answer, not an unreachable server
    const body = (await response.json().catch(() => null)) as { status?: string; version?: string } | null;
    if (response.ok && body?.status === 'ok') {
      add('server', 'ok', `${server} answers (version ${body.version ?? '?'})`);
      return true;
    }
    add('server', 'fail', `${server} answered HTTP ${response.status}`, 'check the server; queued events wait until it answers');
  } catch (error) {
    add(
      'server',
      'fail',
      `${server} is unreachable (${(error as { cause?: { code?: string } }).cause?.code ?? message(error)})`,
      'start the server or fix the URL (`kitty auth login --server URL`)',
    );
  }
  return false;
}

/** Opens one delivery WebSocket the way the flusher does, and closes it at the server's hello. */
async function checkWebSocket(env: NodeJS.ProcessEnv, add: Add): Promise<void> {
  try {
    const { wsToken, credentials } = await fetchWsToken(env, AbortSignal.timeout(5_000));
    const session = await WsSession.connect(credentials.server_url, wsToken, { onAck: () => undefined, onClose: () => undefined }, 5_000);
    session.close();
    add('websocket', 'ok', 'events are delivered over a WebSocket with per-event acks');
  } catch (error) {
    if (isKittyError(error) && error.code === ErrorCode.SESSION_EXPIRED) add('websocket', 'fail', error.message, error.hint ?? 'kitty auth login');
    else if (error instanceof TransportError && error.kind === 'refused') {
      add(
        'websocket',
        'warn',
        `${error.message}: something on the way (a proxy?) does not pass WebSocket, so kitty delivers over batch HTTP`,
        'allow WebSocket upgrades to /ws/v1/events/, or keep batch HTTP: it delivers the same events',
      );
    } else
      add(
        'websocket',
        'warn',
        `${message(error)}; kitty falls back to batch HTTP after 10 failed connects`,
        'check that the server and any proxy pass WebSocket upgrades to /ws/v1/events/',
      );
  }
}

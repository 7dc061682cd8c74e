import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readCredentials, type Credentials } from '../auth/credentials.js';
import { resolveServerUrl } from '../auth/server-url.js';
import { ErrorCode, isKittyError } from '../errors/index.js';
import { repoInfo, type RepoInfo } from '../git/repo.js';
import { runGit } from '../git/run.js';
import { hooksStatus } from '../hooks/install.js';
import { locateHooks } from '../hooks/location.js';
import { clearProblem, readProblem } from '../hooks/problem.js';
import { listRequests } from '../hooks/requests.js';
import { kittyDirOf } from '../hooks/worker.js';
import { readSyncRecord } from '../state/sync-record.js';
import { checkWorkPackages } from './work-packages.js';
import { resolveIdentity } from '../identity/index.js';
import { EventQueue } from '../queue/queue.js';
import { TransportError } from '../transport/types.js';
import { WsSession } from '../transport/ws-session.js';
import { fetchWsToken } from '../transport/ws-token.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

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

/**
 * Dry-runs the whole capture path without changing anything: every check says what it saw and,
 * when it is not ok, the exact fix.
 */
export async function runDoctor(options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Check[]> {
  const { cwd, env } = options;
  const checks: Check[] = [];
  const add = (name: string, status: CheckStatus, detail: string, fix: string | null = null): void => {
    checks.push({ name, status, detail, fix });
  };

  const major = Number(process.versions.node.split('.')[0]);
  add('node', major >= MIN_NODE_MAJOR ? 'ok' : 'fail', `node ${process.versions.node} at ${process.execPath}`, major >= MIN_NODE_MAJOR ? null : `install Node.js ${MIN_NODE_MAJOR} or newer`);

  try {
    const { stdout } = await runGit(['--version'], { cwd, env });
    add('git', 'ok', stdout.trim());
  } catch (error) {
    add('git', 'fail', message(error), 'install git and put it on PATH');
    return checks;
  }

  let repo: RepoInfo;
  try {
    repo = await repoInfo(cwd, env);
    add('repository', 'ok', repo.root);
  } catch (error) {
    add('repository', 'fail', message(error), 'run `kitty doctor` inside a git work tree');
    return checks;
  }

  try {
    const location = await locateHooks(repo, env);
    const target = existsSync(location.dir) ? location.dir : dirname(location.dir);
    accessSync(target, constants.W_OK);
    add('hooks dir', 'ok', `${location.dir} is writable${location.husky ? ' (husky)' : ''}`);
    if (location.husky && !location.husky.generated) {
      add('husky', 'warn', `${join(location.husky.dir, '_')} is missing, so no hook runs in this worktree`, `run \`npx husky\` in ${repo.root}`);
    }
  } catch (error) {
    add('hooks dir', 'fail', message(error), 'make the hooks dir writable (see `git rev-parse --git-path hooks`)');
  }

  try {
    const status = await hooksStatus({ cwd: repo.root, env });
    const broken = status.hooks.filter((hook) => hook.state !== 'installed' && hook.state !== 'chained');
    if (status.unwiredHuskyCalls.length > 0) add('hooks', 'fail', `${status.unwiredHuskyCalls.join(', ')} call kitty, but kitty's hooks are not installed in this clone`, 'kitty hooks install (and add it to package.json "prepare" next to husky, so every clone runs it)');
    else if (broken.length === 0) add('hooks', 'ok', status.hooks.map((hook) => `${hook.name} ${hook.state}`).join(', '));
    else add('hooks', 'fail', broken.map((hook) => `${hook.name} ${hook.state}${hook.detail ? ` (${hook.detail})` : ''}`).join('; '), 'kitty hooks install');
  } catch (error) {
    add('hooks', 'fail', message(error), 'kitty hooks install');
  }

  try {
    const identity = await resolveIdentity({ cwd: repo.root, env, repo, write: false });
    if (identity.source === 'file') add('identity', 'ok', `project ${identity.projectSlug} (${identity.projectUuid}), node ${identity.nodeId}`);
    else add('identity', 'warn', `no project identity in ${identity.configPath}; events would use an in-memory one`, 'kitty init, then commit .kittify/config.yaml');
  } catch (error) {
    add('identity', 'fail', message(error), isKittyError(error) && error.hint ? error.hint : 'kitty init');
  }

  try {
    const queue = EventQueue.open({ env });
    try {
      const counts = queue.counts();
      add('queue', 'ok', `${queue.path}: ${counts.pending} pending, ${counts.delivered} delivered, ${counts.dead} dead`);
    } finally {
      queue.close();
    }
  } catch (error) {
    add('queue', 'fail', message(error), isKittyError(error) && error.hint ? error.hint : 'set KITTY_HOME to a writable directory');
  }

  const waiting = listRequests(kittyDirOf(repo)).length;
  if (waiting > 0) add('captures', 'warn', `${waiting} capture requests wait for the worker`, 'kitty events list (completes them)');
  else add('captures', 'ok', 'no capture request is waiting');

  try {
    const found = checkWorkPackages(repo.root);
    if (found.problems.length === 0) add('work packages', 'ok', `${found.count} work packages, every lane known`);
    else add('work packages', 'warn', found.problems.join('; '), 'fix the files named (lanes: `kitty wp move WPxx LANE`) and commit them; until then captures skip or pass them through');
  } catch (error) {
    add('work packages', 'fail', message(error), 'check that kitty-specs/ is readable');
  }

  // shown here in full, the problem is acknowledged: hooks stop printing it
  const problem = readProblem(kittyDirOf(repo));
  if (problem !== null) {
    add('last capture', 'warn', `the background hook worker met: ${problem}`, `see ${join(kittyDirOf(repo), 'problem')} and $KITTY_HOME/logs/hooks.log; fix the cause, then commit again`);
    clearProblem(kittyDirOf(repo));
  } else add('last capture', 'ok', 'the background hook worker met no problem');

  const sync = readSyncRecord(env);
  if (sync?.last_error) {
    add('delivery', 'warn', `the last delivery attempt (${sync.at}) failed: ${sync.last_error}${sync.pending ? '; events wait and are retried by the next hook run or kitty command' : ''}`, 'kitty sync flush (shows the error as it happens)');
  }

  let credentials: Credentials | null = null;
  try {
    credentials = readCredentials(env);
    if (credentials) add('login', 'ok', `logged in to ${credentials.server_url} as ${credentials.username} (team ${credentials.team_slug})`);
    else add('login', 'warn', 'not logged in, so sync is off and events stay queued locally', 'kitty auth login --server URL');
  } catch (error) {
    add('login', 'fail', message(error), isKittyError(error) && error.hint ? error.hint : 'kitty auth login');
  }

  let server: string | null = credentials?.server_url ?? null;
  try {
    const identity = await resolveIdentity({ cwd: repo.root, env, repo, write: false });
    server ??= (await resolveServerUrl({ env, cwd: repo.root, projectUrl: identity.serverUrl }))?.url ?? null;
  } catch (error) {
    add('server', 'fail', message(error), isKittyError(error) && error.hint ? error.hint : null);
    return checks;
  }
  if (!server) {
    add('server', 'skip', 'no sync server configured; events stay queued locally', null);
    return checks;
  }
  try {
    const response = await fetch(`${server}/api/health/`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { status?: string; version?: string };
    if (response.ok && body.status === 'ok') add('server', 'ok', `${server} answers (version ${body.version ?? '?'})`);
    else add('server', 'fail', `${server} answered HTTP ${response.status}`, 'check the server; queued events wait until it answers');
  } catch (error) {
    add('server', 'fail', `${server} is unreachable (${(error as { cause?: { code?: string } }).cause?.code ?? message(error)})`, 'start the server or fix the URL (`kitty auth login --server URL`)');
  }
  if (credentials && checks.at(-1)?.status === 'ok') await checkWebSocket(env, add);
  return checks;
}

/** Opens one delivery WebSocket the way the flusher does, and closes it at the server's hello. */
async function checkWebSocket(env: NodeJS.ProcessEnv, add: (name: string, status: CheckStatus, detail: string, fix?: string | null) => void): Promise<void> {
  try {
    const { wsToken, credentials } = await fetchWsToken(env, AbortSignal.timeout(5_000));
    const session = await WsSession.connect(credentials.server_url, wsToken, { onAck: () => undefined, onClose: () => undefined }, 5_000);
    session.close();
    add('websocket', 'ok', 'events are delivered over a WebSocket with per-event acks');
  } catch (error) {
    if (isKittyError(error) && error.code === ErrorCode.SESSION_EXPIRED) add('websocket', 'fail', error.message, error.hint ?? 'kitty auth login');
    else if (error instanceof TransportError && error.kind === 'refused') {
      add('websocket', 'warn', `${error.message}: something on the way (a proxy?) does not pass WebSocket, so kitty delivers over batch HTTP`, 'allow WebSocket upgrades to /ws/v1/events/, or keep batch HTTP: it delivers the same events');
    } else add('websocket', 'warn', `${message(error)}; kitty falls back to batch HTTP after 10 failed connects`, 'check that the server and any proxy pass WebSocket upgrades to /ws/v1/events/');
  }
}

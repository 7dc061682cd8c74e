import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CONFIG_DIR, CONFIG_FILE } from '../constants.js';
import { ErrorCode, KittyError } from '../errors/index.js';
import { type RepoInfo, rootCommits } from '../git/repo.js';
import { runGit } from '../git/run.js';
import { type ConfigRead, parseConfig, readConfig, salvageUuid } from './config-file.js';
import { deterministicUuid, newProjectUuid } from './uuid.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** What the config says of the uuid: a usable one, none at all, or one that is there but cannot be read. */
type StatedUuid = { kind: 'ok'; uuid: string } | { kind: 'none' } | { kind: 'lost'; seen: string };

/** Pure. */
export function statedUuid(read: ConfigRead): StatedUuid {
  if (read.kind === 'absent') return { kind: 'none' };
  if (read.kind === 'ok') {
    const raw = read.get(['project', 'uuid']);
    if (raw === undefined || raw === null || raw === '') return { kind: 'none' };
    const text = typeof raw === 'string' ? raw.trim() : '';
    return isUuid(text) ? { kind: 'ok', uuid: text } : { kind: 'lost', seen: String(raw) };
  }
  const salvaged = salvageUuid(read.text);
  if (salvaged) return { kind: 'ok', uuid: salvaged };
  const line = /^\s*uuid\s*:[ \t]*([^\s#].*)$/m.exec(read.text);
  return line ? { kind: 'lost', seen: line[1]!.replace(/\s+#.*$/, '').trim() } : { kind: 'none' };
}

function recordUuid(recordPath: string): string | null {
  try {
    const value = (JSON.parse(readFileSync(recordPath, 'utf8')) as { project_uuid?: unknown }).project_uuid;
    return isUuid(value) ? value : null;
  } catch {
    return null;
  }
}

/** In a linked worktree, the main worktree's config holds the repository's uuid. */
function mainWorktreeUuid(repo: RepoInfo): string | null {
  if (basename(repo.commonDir) !== '.git') return null;
  const mainRoot = dirname(repo.commonDir);
  if (mainRoot === repo.root) return null;
  const stated = statedUuid(readConfig(join(mainRoot, CONFIG_DIR, CONFIG_FILE)));
  return stated.kind === 'ok' ? stated.uuid : null;
}

/** The config as last committed: a team commits it, so it survives a broken working copy and a fresh clone. */
async function committedUuid(repo: RepoInfo, env: NodeJS.ProcessEnv): Promise<string | null> {
  const { stdout, code } = await runGit(['cat-file', 'blob', `HEAD:${CONFIG_DIR}/${CONFIG_FILE}`], { cwd: repo.root, env, okCodes: [128] });
  if (code !== 0) return null;
  const stated = statedUuid(parseConfig(stdout));
  return stated.kind === 'ok' ? stated.uuid : null;
}

/** Every other place the repository's uuid is kept, most local first. */
async function recoveredUuid(repo: RepoInfo, recordPath: string, env: NodeJS.ProcessEnv): Promise<{ uuid: string; from: string } | null> {
  const main = mainWorktreeUuid(repo);
  if (main) return { uuid: main, from: "the main worktree's config" };
  const record = recordUuid(recordPath);
  if (record) return { uuid: record, from: `the repository's identity record ${recordPath}` };
  const committed = await committedUuid(repo, env);
  if (committed) return { uuid: committed, from: `the committed ${CONFIG_DIR}/${CONFIG_FILE} (HEAD)` };
  return null;
}

/** A uuid every process and clone of a repository derives alike (from its root commit), writing nothing. */
async function deterministicFallback(repo: RepoInfo, env: NodeJS.ProcessEnv): Promise<string> {
  const roots = await rootCommits(repo.root, env);
  return deterministicUuid(roots[0] ?? realpathSync(repo.commonDir));
}

function uuidLostError(configPath: string, seen: string): KittyError {
  return new KittyError(
    ErrorCode.CONFIG_UUID_LOST,
    `project.uuid in ${configPath} cannot be read (seen ${JSON.stringify(seen)}), and no identity record, worktree or commit holds it`,
    {
      hint: `write the project's uuid back into ${configPath} (queued events carry it: \`kitty events list --state all --json\`), or remove the uuid line to start a new project`,
    },
  );
}

interface UuidChoice {
  uuid: string;
  /** Said to the user when the uuid did not come from the config as it stands. */
  note: string | null;
}

/**
 * The project's uuid, never silently a new project's: the config's own, else one kept elsewhere
 * (main worktree, identity record, last commit). A config whose uuid is there but unreadable, with
 * none of those, is refused: any uuid chosen then would make a new project on the server. A
 * malformed config with no uuid at all gets the deterministic fallback; only a config that never
 * had one starts a new project. Its uuid is the deterministic one too when the repository has a
 * commit: a dry run before the first write stamped with it, and what the dry run printed must be
 * what the first real run queues. Without a commit (`fresh: 'random'` when written) there is no
 * stable fact to derive it from.
 */
export async function chooseUuid(options: {
  read: ConfigRead;
  repo: RepoInfo;
  configPath: string;
  recordPath: string;
  env: NodeJS.ProcessEnv;
  fresh: 'random' | 'deterministic';
}): Promise<UuidChoice> {
  const { read, repo, configPath, env } = options;
  const stated = statedUuid(read);
  if (stated.kind === 'ok') return { uuid: stated.uuid, note: null };
  const recovered = await recoveredUuid(repo, options.recordPath, env);
  if (recovered) {
    const note =
      stated.kind === 'lost'
        ? `project.uuid in ${configPath} cannot be read (seen ${JSON.stringify(stated.seen)}); kept the project's uuid ${recovered.uuid} from ${recovered.from}`
        : null;
    return { uuid: recovered.uuid, note };
  }
  if (stated.kind === 'lost') throw uuidLostError(configPath, stated.seen);
  if (read.kind === 'malformed') {
    const uuid = await deterministicFallback(repo, env);
    return {
      uuid,
      note: `${configPath} is malformed and names no project.uuid, and nothing else records one; using the repository's deterministic uuid ${uuid}`,
    };
  }
  if (options.fresh === 'deterministic') return { uuid: await deterministicFallback(repo, env), note: null };
  const [root] = await rootCommits(repo.root, env);
  return { uuid: root ? deterministicUuid(root) : newProjectUuid(), note: null };
}

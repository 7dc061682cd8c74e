import { copyFileSync, existsSync, constants as fsConstants, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CONFIG_DIR, CONFIG_FILE, GIT_STATE_DIR } from '../constants.js';
import { ErrorCode, errnoCode, KittyError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { originUrl, type RepoInfo, repoInfo } from '../git/repo.js';
import { LockTimeoutError, withFileLock } from '../state/lock.js';
import { applyIdentity, type ConfigRead, type ConfigValues, parseConfig, readConfig, templateText } from './config-file.js';
import { machineNodeId } from './node-id.js';
import { chooseUuid, isUuid } from './project-uuid.js';
import { assertLinePaths } from './repo-path.js';
import { projectSlug } from './slug.js';

export type IdentitySource = 'file' | 'written' | 'memory';

export interface Identity {
  projectUuid: string;
  projectSlug: string;
  /** This machine's node id: what every envelope carries, whatever the committed config says. */
  nodeId: string;
  autoStart: boolean;
  serverUrl: string | null;
  source: IdentitySource;
  configPath: string;
}

interface ResolveOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Backfill a missing or partial config (init, identity, derive); false only reads. */
  write: boolean;
  /** Refuse a malformed config instead of backing it up and repairing it. */
  strict?: boolean;
  repo?: RepoInfo;
  warn?: (line: string) => void;
}

const READ_ONLY = new Set(['EACCES', 'EPERM', 'EROFS']);

interface Record {
  project_uuid: string;
  project_slug: string;
}

function paths(repo: RepoInfo) {
  const kittyDir = join(repo.commonDir, GIT_STATE_DIR);
  return {
    configPath: join(repo.root, CONFIG_DIR, CONFIG_FILE),
    kittyDir,
    recordPath: join(kittyDir, 'identity.json'),
    lockPath: join(kittyDir, 'identity.lock'),
  };
}

function complete(read: ConfigRead): read is Extract<ConfigRead, { kind: 'ok' }> & { values: ConfigValues & { uuid: string; slug: string } } {
  return read.kind === 'ok' && isUuid(read.values.uuid) && read.values.slug !== null && read.values.nodeId !== null;
}

function malformedError(configPath: string, read: Extract<ConfigRead, { kind: 'malformed' }>): KittyError {
  return new KittyError(ErrorCode.CONFIG_MALFORMED, `malformed YAML in ${configPath}:${read.line}: ${read.reason}`, {
    hint: 'fix the YAML by hand, or run `kitty init` to keep a backup and write a repaired file (the uuid is kept)',
  });
}

function fromFile(read: Extract<ConfigRead, { kind: 'ok' }>, configPath: string, source: IdentitySource): Identity {
  return {
    projectUuid: read.values.uuid!,
    projectSlug: read.values.slug!,
    nodeId: machineNodeId(),
    autoStart: read.values.autoStart,
    serverUrl: read.values.serverUrl,
    source,
    configPath,
  };
}

function writeRecord(kittyDir: string, recordPath: string, identity: Identity): void {
  mkdirSync(kittyDir, { recursive: true });
  const record: Record = { project_uuid: identity.projectUuid, project_slug: identity.projectSlug };
  writeFileAtomic(recordPath, `${JSON.stringify(record, null, 2)}\n`);
}

async function backfill(repo: RepoInfo, options: ResolveOptions): Promise<Identity> {
  const { configPath, kittyDir, recordPath } = paths(repo);
  const read = readConfig(configPath);
  if (complete(read)) return fromFile(read, configPath, 'file');
  if (read.kind === 'malformed' && options.strict) throw malformedError(configPath, read);

  // chosen before anything is written: a uuid that cannot be recovered leaves the file as it is
  const { uuid, note } = await chooseUuid({ read, repo, configPath, recordPath, env: options.env, fresh: 'random' });
  let base: Extract<ConfigRead, { kind: 'ok' }>;
  if (read.kind === 'ok') {
    base = read;
  } else {
    if (read.kind === 'malformed') {
      const backup = `${configPath}.bak-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      copyFileSync(configPath, backup, fsConstants.COPYFILE_EXCL);
      options.warn?.(
        `kitty: malformed YAML in ${configPath}:${read.line} (${read.reason}); kept the original as ${basename(backup)} and wrote a repaired file`,
      );
    }
    base = parseConfig(templateText()) as Extract<ConfigRead, { kind: 'ok' }>;
  }
  if (note) options.warn?.(`kitty: warning: ${note}`);
  const slug = (read.kind === 'ok' ? read.values.slug : null) ?? projectSlug(await originUrl(repo.root, options.env), repo.root);
  const text = applyIdentity(base, { uuid, slug, nodeId: machineNodeId() });
  mkdirSync(dirname(configPath), { recursive: true });
  writeFileAtomic(configPath, text);
  const written = readConfig(configPath);
  if (!complete(written)) throw new Error(`identity backfill of ${configPath} did not persist`);
  const identity = fromFile(written, configPath, 'written');
  writeRecord(kittyDir, recordPath, identity);
  return identity;
}

const warnedReadOnly = new Set<string>();

async function inMemory(repo: RepoInfo, options: ResolveOptions, reason: string | null): Promise<Identity> {
  const { configPath, recordPath } = paths(repo);
  let read: ConfigRead;
  try {
    read = readConfig(configPath);
  } catch {
    read = { kind: 'absent' };
  }
  const { uuid, note } = await chooseUuid({ read, repo, configPath, recordPath, env: options.env, fresh: 'deterministic' });
  if (note && !warnedReadOnly.has(`${configPath}\0uuid`)) {
    warnedReadOnly.add(`${configPath}\0uuid`);
    options.warn?.(`kitty: warning: ${note}`);
  }
  const values = read.kind === 'ok' ? read.values : null;
  const slug = values?.slug ?? projectSlug(await originUrl(repo.root, options.env), repo.root);
  if (reason && !warnedReadOnly.has(configPath)) {
    warnedReadOnly.add(configPath);
    options.warn?.(
      `kitty: ${reason}; using an in-memory project identity (uuid ${uuid}). Make ${dirname(configPath)} writable and run \`kitty init\` to persist it`,
    );
  }
  return {
    projectUuid: uuid,
    projectSlug: slug,
    nodeId: machineNodeId(),
    autoStart: values?.autoStart ?? true,
    serverUrl: values?.serverUrl ?? null,
    source: 'memory',
    configPath,
  };
}

/**
 * The project's identity (docs/architecture.md, "Identity rules"): read from `.kittify/config.yaml`,
 * backfilled under a lock when allowed (the first persisted value wins), or held in memory,
 * deterministically, when the repository cannot be written.
 */
export async function resolveIdentity(options: ResolveOptions): Promise<Identity> {
  const repo = options.repo ?? (await repoInfo(options.cwd, options.env));
  await assertLinePaths(repo, options.cwd, options.env);
  const { configPath, kittyDir, recordPath, lockPath } = paths(repo);
  const read = readConfig(configPath);
  if (complete(read)) {
    const identity = fromFile(read, configPath, 'file');
    if (options.write && !existsSync(recordPath)) {
      try {
        writeRecord(kittyDir, recordPath, identity);
      } catch {
        // the record only helps worktrees that lack the config; reading must not fail for it
      }
    }
    return identity;
  }
  if (read.kind === 'malformed' && (options.strict || !options.write)) {
    if (options.strict) throw malformedError(configPath, read);
    return inMemory(repo, options, `malformed YAML in ${configPath}:${read.line} (${read.reason})`);
  }
  if (!options.write) return inMemory(repo, options, null);
  try {
    mkdirSync(kittyDir, { recursive: true });
    return await withFileLock(lockPath, () => backfill(repo, options), { timeoutMs: 10_000 });
  } catch (error) {
    if (error instanceof LockTimeoutError) {
      throw new KittyError(ErrorCode.CONFIG_LOCKED, `timed out waiting for the identity lock ${error.path}`, {
        cause: error,
        hint: `if no other kitty process is running, remove it: \`rm ${error.path}\``,
      });
    }
    const code = errnoCode(error);
    if (code && READ_ONLY.has(code)) return inMemory(repo, options, `${configPath} is not writable (${code})`);
    throw error;
  }
}

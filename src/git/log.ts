import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { ErrorCode, errnoCode, KittyError } from '../errors/index.js';
import { gitMissingError, notARepoError } from './run.js';

const ZERO_SHA = /^0+$/;

/** A path a commit changed, with its blob in each parent and in the commit (null: absent). */
export interface PathChange {
  path: string;
  before: (string | null)[];
  after: string | null;
}

export interface LogCommit {
  sha: string;
  parents: string[];
  /** Author date as git printed it (strict ISO 8601 with offset). */
  authorDate: string;
  authorName: string;
  changes: PathChange[];
}

const RECORD = '\x1e';
const FIELD = '\x1f';

/**
 * `-c` makes merges list only paths that differ from every parent (their own resolution), which is
 * exactly what a merge contributes; `--no-renames` turns a legacy lane-folder move into delete+add
 * of one WP id, which derivation pairs up; `--full-history` keeps merges that pathspec simplification
 * would hide.
 */
export function logArgs(revisions: readonly string[], pathspecs: readonly string[]): string[] {
  return [
    'log',
    '-z',
    '--raw',
    '-c',
    '--no-renames',
    '--root',
    '--full-history',
    '--no-abbrev',
    '--topo-order',
    '--reverse',
    '--no-color',
    '--no-ext-diff',
    `--format=${RECORD}%H${FIELD}%P${FIELD}%aI${FIELD}%an`,
    ...revisions,
    '--',
    ...pathspecs,
  ];
}

function blob(sha: string | undefined): string | null {
  return sha === undefined || ZERO_SHA.test(sha) ? null : sha;
}

/** Pure: one record of `logArgs` output (without the leading separator). */
export function parseLogRecord(record: string): LogCommit {
  const headerEnd = record.indexOf('\0');
  const header = headerEnd < 0 ? record : record.slice(0, headerEnd);
  const [sha = '', parents = '', authorDate = '', authorName = ''] = header.split(FIELD);
  const changes: PathChange[] = [];
  if (headerEnd >= 0) {
    const tokens = record.slice(headerEnd + 1).split('\0');
    for (let i = 0; i < tokens.length; i++) {
      const meta = tokens[i]!.replace(/^\n/, '');
      if (!meta.startsWith(':')) continue;
      const path = tokens[++i] ?? '';
      const colons = meta.length - meta.replace(/^:+/, '').length;
      const fields = meta.slice(colons).split(' ');
      // colons = number of parents; then parents+1 modes, parents+1 shas, status
      const shas = fields.slice(colons + 1, colons * 2 + 2);
      changes.push({ path, before: shas.slice(0, colons).map(blob), after: blob(shas[colons]) });
    }
  }
  return { sha, parents: parents ? parents.split(' ') : [], authorDate, authorName, changes };
}

/** Streams commits of `revisions` touching `pathspecs`, parents before children. */
export async function* streamLog(
  revisions: readonly string[],
  pathspecs: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): AsyncGenerator<LogCommit> {
  const child = spawn('git', logArgs(revisions, pathspecs), {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', (error) => reject(errnoCode(error) === 'ENOENT' ? gitMissingError(error) : error));
    child.on('close', (code) => resolve(code ?? 1));
  });
  // awaited only after stdout ends: a spawn failure (no git) rejects before that, and unhandled
  // until then it would end the process instead of reaching the caller
  exited.catch(() => undefined);
  const decoder = new StringDecoder('utf8');
  let pending = '';
  try {
    for await (const chunk of child.stdout) {
      pending += decoder.write(chunk as Buffer);
      const records = pending.split(RECORD);
      pending = records.pop() ?? '';
      for (const record of records) if (record) yield parseLogRecord(record);
    }
    pending += decoder.end();
    const code = await exited;
    if (code !== 0) {
      const message = Buffer.concat(stderr).toString('utf8').trim();
      if (/not a git repository/i.test(message)) throw notARepoError(options.cwd);
      throw new KittyError(ErrorCode.GIT_FAILED, `git log ${revisions.join(' ')} failed: ${message.split('\n')[0]}`, {
        hint: 'check the revision range, e.g. `git log --oneline HEAD~5..HEAD`',
      });
    }
    if (pending) yield parseLogRecord(pending);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

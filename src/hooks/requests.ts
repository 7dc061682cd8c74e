import { readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../errors/index.js';

/** What a hook stub recorded (hooks/stub.sh): enough to capture the commits even much later. */
export interface CaptureRequest {
  path: string;
  hook: string;
  args: string[];
  /** The git dir of the worktree the hook ran in. */
  gitDir: string | null;
  /** HEAD when the hook ran (null when the stub could not read it without git), and its ref (`refs/heads/x`, or `HEAD` when detached). */
  head: string | null;
  ref: string | null;
  /** post-rewrite: `old new` pairs. */
  rewritten: { from: string; to: string }[];
  /** post-merge --squash: the commits squashed into the next commit. */
  squashed: string[];
}

const SHA = /^[0-9a-f]{40,64}$/;

/**
 * Pure: parses one request file. null when it is not one (it is then set aside, never deleted);
 * 'partial' while the stub is still writing it (no `end` line yet).
 */
export function parseRequest(text: string, path: string): CaptureRequest | null | 'partial' {
  const lines = text.split('\n');
  const first = /^hook (\S+)(?: (.*))?$/.exec(lines[0] ?? '');
  if (!first) return text === '' ? 'partial' : null;
  const request: CaptureRequest = {
    path,
    hook: first[1]!,
    args: first[2] ? first[2].split(' ').filter(Boolean) : [],
    gitDir: null,
    head: null,
    ref: null,
    rewritten: [],
    squashed: [],
  };
  let section = '';
  for (const line of lines.slice(1)) {
    if (line === 'end') return request;
    if (line === 'rewritten' || line === 'squash') {
      section = line;
      continue;
    }
    if (section === 'rewritten') {
      const [from, to] = line.split(' ');
      if (from && to && SHA.test(from) && SHA.test(to)) request.rewritten.push({ from, to });
    } else if (section === 'squash') {
      const match = /^commit ([0-9a-f]{40,64})\b/.exec(line);
      if (match) request.squashed.push(match[1]!);
    } else {
      const space = line.indexOf(' ');
      const [key, value] = space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
      if (key === 'gitdir' && value) request.gitDir = value;
      if (key === 'ref' && value) request.ref = value;
      if (key === 'head' && SHA.test(value)) request.head = value;
    }
  }
  return 'partial';
}

function requestsDir(kittyDir: string): string {
  return join(kittyDir, 'requests');
}

/** Request files in the order they were made; `.tmp` files are still being written. */
export function listRequests(kittyDir: string): string[] {
  try {
    return readdirSync(requestsDir(kittyDir))
      .filter((name) => !name.endsWith('.tmp') && !name.endsWith('.bad'))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
      .map((name) => join(requestsDir(kittyDir), name));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
}

/** The parsed request; null when unparseable; 'partial' while being written; undefined when already taken. */
export function readRequest(path: string): CaptureRequest | null | 'partial' | undefined {
  try {
    return parseRequest(readFileSync(path, 'utf8'), path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

export function removeRequest(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
}

/** Keeps an unreadable request for inspection instead of dropping it. */
export function setAside(path: string): void {
  renameSync(path, `${path}.bad`);
}

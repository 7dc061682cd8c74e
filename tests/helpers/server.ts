import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { onTestFinished } from 'vitest';
import Database from '../../src/deps/better-sqlite3.js';
import { startServer as startServerHere } from '../../src/server/app.js';
import { CLI, type RunResult, runKittyHere, tempDir, testEnv } from './gitdir.js';
import { psql } from './postgres.js';

export interface TestServer {
  url: string;
  port: number;
  data: string;
  /** The PostgreSQL database it stores in; undefined for SQLite under `data`. */
  database: string | undefined;
  process: ChildProcess;
  /** What the server wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
  /** Events the server stored, read from its database. */
  events(): { event_id: string; team_slug: string; project_uuid: string }[];
}

export interface ServerOptions {
  data?: string;
  /** A migrated PostgreSQL database URL (tests/helpers/postgres.ts) instead of SQLite under `data`. */
  database?: string;
  port?: number;
  args?: string[];
  /** Users as `NAME:PASSWORD:TEAM` (default: demo of team acme). */
  users?: string[];
  env?: NodeJS.ProcessEnv;
}

/** A real `kitty server` process on 127.0.0.1 (port 0 unless given), stopped after the test. */
export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const data = options.data ?? tempDir('kitty-server-');
  const users = (options.users ?? ['demo:demo-pass:acme']).flatMap((user) => ['--user', user]);
  const store = options.database ? ['--database', options.database] : ['--data', data];
  const child = spawn(process.execPath, [CLI, 'server', '--port', String(options.port ?? 0), ...store, ...users, ...(options.args ?? [])], {
    env: testEnv(tempDir(), options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`kitty server exited ${code}: ${stderr}`)));
  });
  const url = line.replace('kitty server: listening on ', '');
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  onTestFinished(stop);
  return {
    url,
    port: Number(new URL(url).port),
    data,
    database: options.database,
    process: child,
    stderr: () => stderr,
    stop,
    events: () => {
      if (options.database) return storedInPostgres(options.database);
      const db = new Database(join(data, 'server.db'), { readonly: true });
      try {
        return db.prepare('SELECT event_id, team_slug, project_uuid FROM events ORDER BY seq').all() as {
          event_id: string;
          team_slug: string;
          project_uuid: string;
        }[];
      } finally {
        db.close();
      }
    },
  };
}

type Stored = { event_id: string; team_slug: string; project_uuid: string };

function storedInPostgres(url: string): Stored[] {
  return psql(url, 'SELECT row_to_json(e) FROM (SELECT event_id, team_slug, project_uuid FROM events ORDER BY seq) e').map(
    (line) => JSON.parse(line) as Stored,
  );
}

/**
 * A server that a test stops and starts again on the same port. Its port lies below the kernel's
 * ephemeral range, so no port-0 listener of a test running alongside can take it in between.
 */
export async function startRestartableServer(options: { data?: string; database?: string; args?: string[] } = {}): Promise<TestServer> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    try {
      return await startServer({ ...options, port });
    } catch (error) {
      if (attempt >= 5 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

const loginArgs = (url: string): string[] => ['auth', 'login', '--server', url, '--username', 'demo', '--password-stdin'];

/** `kitty auth login` as demo, run in the test's process (the server may live there too). */
export function login(url: string, cwd: string, env: NodeJS.ProcessEnv, password = 'demo-pass'): Promise<RunResult> {
  return runKittyHere(loginArgs(url), cwd, env, password);
}

/**
 * kitty's server inside the test's process (no process start), with user demo (demo-pass) of
 * `team` and every option the test does not name at its default; closed after the test.
 */
export async function serverInProcess(options: Partial<Parameters<typeof startServerHere>[0]> & { team?: string } = {}) {
  const { team = 'acme', ...rest } = options;
  const server = await startServerHere({
    host: '127.0.0.1',
    port: 0,
    dataDir: tempDir('kitty-server-'),
    version: '0.0.0-test',
    users: [{ username: 'demo', password: 'demo-pass', team }],
    ...rest,
  });
  onTestFinished(() => server.close());
  return server;
}

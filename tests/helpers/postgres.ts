// A real, throwaway PostgreSQL for tests: initdb in a temp dir, started on a loopback port with its
// socket in the same dir, once for the whole run (postgres-setup.ts) and removed after it. No mocks
// of the database.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { migrateDatabase } from '../../src/server/store/pg-open.js';
import { closedPort } from './net.js';

export interface PostgresCluster {
  port: number;
  /** A new, empty database; migrated to kitty's schema unless `migrated` is false. Its URL. */
  /** `icuLocale`: the database's default collation, an ICU locale (e.g. one that ignores punctuation). */
  createDatabase(options?: { migrated?: boolean; icuLocale?: string }): Promise<string>;
  stop(): void;
}

/** The directory holding initdb, pg_ctl and postgres: PATH first, else Debian's versioned directories, newest first. */
export function postgresBin(): string {
  const fromPath = (process.env.PATH ?? '').split(delimiter).find((dir) => dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (fromPath) return fromPath;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error('PostgreSQL not found: install it (Debian: apt-get install postgresql; .ci/run does) or put initdb on PATH');
  return join(root, versions[0]!, 'bin');
}

/** initdb and postgres refuse to run as root: as root, the cluster belongs to an unprivileged user. */
function runAs(): string | null {
  if (process.getuid?.() !== 0) return null;
  return spawnSync('id', ['-u', 'postgres']).status === 0 ? 'postgres' : 'nobody';
}

function argv(user: string | null, command: string, args: string[]): [string, string[]] {
  return user ? ['runuser', ['-u', user, '--', command, ...args]] : [command, args];
}

function run(user: string | null, command: string, args: string[]): string {
  const result = spawnSync(...argv(user, command, args), { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}${result.stdout}`);
  return result.stdout;
}

/** run, without holding up the process meanwhile (the run's setup process also serves the test processes). */
function runInBackground(user: string | null, command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(...argv(user, command, args), { encoding: 'utf8' }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} ${args.join(' ')} failed (${error.code}): ${stderr}${stdout}`)) : resolve(stdout),
    );
  });
}

/**
 * Stops the cluster and removes its dir once this process is gone, however it ended: a test worker
 * killed by the runner fires no exit handler, and a postgres left running would outlive every test.
 */
function reaper(user: string | null, pgCtl: string, dir: string): void {
  const stop = `${user ? `runuser -u ${user} -- ` : ''}${pgCtl} -D ${dir}/data -m immediate stop`;
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stop} >/dev/null 2>&1; rm -rf ${dir}`;
  spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref();
}

/** Runs `sql` through psql, synchronously (as the SQLite helpers read their file): its rows as text lines. */
export function psql(url: string, sql: string): string[] {
  const bin = postgresBin();
  const out = execFileSync(existsSync(join(bin, 'psql')) ? join(bin, 'psql') : 'psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {
    encoding: 'utf8',
  });
  return out.split('\n').filter((line) => line !== '');
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where a test process asks for the run's cluster and finds its port (postgres-setup.ts). */
    postgresDir: string;
  }
}

let shared: Promise<PostgresCluster> | undefined;

/**
 * The cluster of the whole test run, started once by the run's global setup when the first test
 * process asks (an initdb costs more than a second of CPU): each test takes a database of its own.
 * `stop` is a no-op; the run's teardown stops it.
 */
export async function startPostgres(): Promise<PostgresCluster> {
  shared ??= clusterOfRun();
  shared.catch(() => {
    shared = undefined;
  });
  return { ...(await shared), stop: () => undefined };
}

async function clusterOfRun(): Promise<PostgresCluster> {
  const dir = inject('postgresDir');
  if (!dir)
    throw new Error('no PostgreSQL for this test run: run the tests through vitest.config.ts, whose globalSetup (tests/helpers/postgres-setup.ts) starts it');
  writeFileSync(join(dir, 'wanted'), '');
  const ready = join(dir, 'ready.json');
  const deadline = Date.now() + 120_000;
  while (!existsSync(ready)) {
    if (Date.now() > deadline) throw new Error(`the test run's PostgreSQL did not start within 120 s (no ${ready})`);
    await sleep(50);
  }
  const state = JSON.parse(readFileSync(ready, 'utf8')) as { port?: number; error?: string };
  if (state.port === undefined) throw new Error(`the test run's PostgreSQL failed to start: ${state.error}`);
  return clusterAt(state.port, () => undefined);
}

/**
 * Starts a cluster: trust authentication on loopback only, superuser `kitty`, durability off
 * (fsync, synchronous_commit): a test's database lives for seconds and speed is what matters.
 */
export async function launchCluster(): Promise<PostgresCluster> {
  const bin = postgresBin();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'kitty-pg-'));
  chmodSync(dir, 0o700);
  if (user) execFileSync('chown', [user, dir]);
  const data = join(dir, 'data');
  await runInBackground(user, join(bin, 'initdb'), ['-D', data, '-U', 'kitty', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  const pgCtl = (...args: string[]): string => run(user, join(bin, 'pg_ctl'), ['-D', data, ...args]);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await closedPort();
    // every test process shares it: each server pools up to 10 connections and LISTENs on one more
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=900`;
    try {
      await runInBackground(user, join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', options, 'start']);
      break;
    } catch (error) {
      // another process took the port between the probe and the start
      if (attempt >= 3) throw error;
    }
  }
  reaper(user, join(bin, 'pg_ctl'), dir);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    try {
      pgCtl('-m', 'immediate', 'stop');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return clusterAt(port, stop);
}

let databases = 0;

/** The cluster on `port`; databases are named by test process, so that processes sharing it never collide. */
function clusterAt(port: number, stop: () => void): PostgresCluster {
  const url = (database: string): string => `postgres://kitty@127.0.0.1:${port}/${database}`;
  return {
    port,
    async createDatabase({ migrated = true, icuLocale }: { migrated?: boolean; icuLocale?: string } = {}) {
      const name = `kitty_${process.pid}_${++databases}`;
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        const collation = icuLocale ? ` TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${icuLocale}'` : '';
        await admin.query(`CREATE DATABASE ${name}${collation}`);
      } finally {
        await admin.end();
      }
      if (migrated) await migrateDatabase(url(name), () => undefined);
      return url(name);
    },
    stop,
  };
}

export interface StoreUnderTest {
  name: 'sqlite' | 'postgres';
  /** A fresh, migrated PostgreSQL database URL; undefined for SQLite (a fresh --data dir). */
  database(): Promise<string | undefined>;
}

/**
 * The stores a server behaviour test runs against, for `describe.each`: SQLite, and PostgreSQL on
 * the run's cluster (a fresh database per test).
 */
export function eachStore(): StoreUnderTest[] {
  let cluster: PostgresCluster | undefined;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(() => cluster?.stop());
  return [
    { name: 'sqlite', database: async () => undefined },
    { name: 'postgres', database: () => cluster!.createDatabase() },
  ];
}

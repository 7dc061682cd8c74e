import pg from 'pg';
import { migrate, requireCurrentSchema } from './pg-schema.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

/** A database the server cannot use: `code` says whether the URL is wrong or the database did not answer. */
class DatabaseError extends Error {
  constructor(
    readonly code: 'KITTY_SERVER_DATABASE_URL' | 'KITTY_SERVER_DATABASE_UNREACHABLE',
    message: string,
  ) {
    super(message);
  }
}

/** The URL as it may be shown: never the password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

function checkUrl(url: string): void {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below with the same message as a wrong scheme
  }
  if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol) || !parsed.hostname || parsed.pathname.length <= 1) {
    throw new DatabaseError(
      'KITTY_SERVER_DATABASE_URL',
      `--database must be postgres://USER:PASSWORD@HOST:PORT/DATABASE (or postgresql://), got "${redactUrl(url)}"`,
    );
  }
}

/**
 * A pool on the database, connected once to prove it answers. Its idle connections may fail when the
 * database restarts; the pool drops them and the next query opens a new one, so the error is only logged.
 */
async function connectPool(url: string, log: (line: string) => void): Promise<pg.Pool> {
  checkUrl(url);
  // a timeout, so an address that drops packets is an error within seconds instead of a hang
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 10_000, application_name: 'kitty server' });
  pool.on('error', (error) => log(`database connection lost: ${error.message}`));
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    const { message, code } = error as { message: string; code?: string };
    // PostgreSQL's own codes (28P01 wrong password, 3D000 no such database) are not in its messages
    const reason = code && !message.includes(code) ? `${message} (${code})` : message;
    throw new DatabaseError('KITTY_SERVER_DATABASE_UNREACHABLE', `cannot use the database ${redactUrl(url)}: ${reason}`);
  }
  return pool;
}

interface StoreOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  log: (line: string) => void;
}

/** The migrate command for this URL, as the refusal to start names it (without the password). */
const migrateCommand = (url: string): string => `kitty server migrate --database ${redactUrl(url)}`;

/** SQLite under dataDir (migrated on open, as one process owns it), or PostgreSQL at a schema `kitty server migrate` made. */
export async function openStore(options: StoreOptions): Promise<Store> {
  if (!options.databaseUrl) return new SqliteStore(options.dataDir);
  const pool = await connectPool(options.databaseUrl, options.log);
  try {
    await requireCurrentSchema(pool, migrateCommand(options.databaseUrl));
    return await PostgresStore.open(pool, options.log);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}

/** `kitty server migrate`: the versions before and after. */
export async function migrateDatabase(url: string, log: (line: string) => void): Promise<{ from: number; to: number }> {
  const pool = await connectPool(url, log);
  try {
    return await migrate(pool);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

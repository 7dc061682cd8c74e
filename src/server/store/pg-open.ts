import pg from 'pg';
import { checkUrl, DatabaseError, redactUrl } from './database-url.js';
import { migrate, requireCurrentSchema } from './pg-schema.js';
import { PostgresStore } from './postgres.js';

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

/** The migrate command for this URL, as the refusal to start names it (without the password). */
const migrateCommand = (url: string): string => `kitty server migrate --database ${redactUrl(url)}`;

/** The PostgreSQL store at `url`, once its schema is the one `kitty server migrate` makes. */
export async function openPostgres(url: string, log: (line: string) => void): Promise<PostgresStore> {
  const pool = await connectPool(url, log);
  try {
    await requireCurrentSchema(pool, migrateCommand(url));
    return await PostgresStore.open(pool, log);
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

import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

interface StoreOptions {
  dataDir: string;
  databaseUrl?: string | undefined;
  log: (line: string) => void;
}

/**
 * SQLite under dataDir (migrated on open, as one process owns it), or PostgreSQL at a schema
 * `kitty server migrate` made. The PostgreSQL driver is loaded only for a database URL: a SQLite
 * server does not pay for it at start.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  if (!options.databaseUrl) return new SqliteStore(options.dataDir);
  const { openPostgres } = await import('./pg-open.js');
  return openPostgres(options.databaseUrl, options.log);
}

import { ErrorCode, KittyError } from '../../errors/index.js';
import { redactUrl } from '../../server/store/database-url.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import type { Io } from '../output.js';

export const DATABASE_ENV = 'KITTY_DATABASE_URL';

/** --database, else KITTY_DATABASE_URL; undefined means SQLite. */
export function databaseUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  return flag || env[DATABASE_ENV] || undefined;
}

/** The store failures a user can fix (server-side codes from src/server/store), as KittyErrors; null for any other. */
export function databaseError(cause: unknown, what: string): KittyError | null {
  const code = (cause as { code?: unknown })?.code;
  const message = `${what}: ${(cause as Error)?.message ?? String(cause)}`;
  switch (code) {
    case 'KITTY_SERVER_DATABASE_URL':
      return new KittyError(ErrorCode.USAGE, message, {
        cause,
        hint: `e.g. --database postgres://kitty:PASSWORD@db.internal:5432/kitty, or set ${DATABASE_ENV}`,
      });
    case 'KITTY_SERVER_DATABASE_UNREACHABLE':
      return new KittyError(ErrorCode.SERVER_START, message, {
        cause,
        hint: `start PostgreSQL or fix the host, port, user, password or database name in --database / ${DATABASE_ENV}`,
      });
    case 'KITTY_SERVER_SCHEMA_OUTDATED':
      return new KittyError(ErrorCode.SERVER_START, message, {
        cause,
        hint: 'run `kitty server migrate --database URL` once (from any one machine), then start the servers',
      });
    case 'KITTY_SERVER_SCHEMA_TOO_NEW':
      return new KittyError(ErrorCode.SERVER_SCHEMA_TOO_NEW, message, {
        cause,
        hint: 'upgrade kitty to the version that migrated this database, or point --database / --data elsewhere',
      });
    default:
      return null;
  }
}

export const command: Command = {
  help: `Usage: kitty server migrate --database postgres://USER:PASSWORD@HOST:PORT/DATABASE

Creates or upgrades the sync server's schema in a PostgreSQL database, then exits. Run it once
before the first start and after each kitty upgrade; \`kitty server --database URL\` refuses to
start on a schema it does not know. Safe to run from several machines at once: they take turns
(a PostgreSQL advisory lock) and the later ones find the work done. A SQLite --data directory
needs no migrate: the server upgrades it when it starts.

Options:
  --database URL  the database (default: $${DATABASE_ENV})
  -h, --help      show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { database: { type: 'string' } }, 'kitty server migrate');
    const url = databaseUrl(values.database, io.env);
    if (!url) {
      throw new KittyError(ErrorCode.USAGE, `kitty server migrate: no database given (--database is missing and ${DATABASE_ENV} is unset)`, {
        hint: 'e.g. `kitty server migrate --database postgres://kitty:PASSWORD@db.internal:5432/kitty`',
      });
    }
    let versions: { from: number; to: number };
    try {
      // the driver is loaded here, not by `kitty server` on SQLite (which imports this module's helpers)
      const { migrateDatabase } = await import('../../server/store/pg-open.js');
      versions = await migrateDatabase(url, (line) => io.stderr.write(`kitty server: ${line}\n`));
    } catch (cause) {
      throw databaseError(cause, 'cannot migrate') ?? cause;
    }
    const { from, to } = versions;
    io.stdout.write(
      from === to
        ? `kitty server: ${redactUrl(url)} is at schema version ${to}, nothing to do\n`
        : `kitty server: ${redactUrl(url)} migrated from schema version ${from} to ${to}\n`,
    );
    return 0;
  },
};

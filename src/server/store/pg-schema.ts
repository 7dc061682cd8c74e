import type { Pool, PoolClient } from 'pg';
import { timestampKeySql } from '../validate.js';
import { SchemaError } from './schema-error.js';

/**
 * PostgreSQL migrations, one list of statements per version, applied in order and recorded in
 * `kitty_schema`. Text columns compare as bytes (COLLATE "C"), as SQLite's do: the board's order
 * and the project list's must not depend on the database's locale.
 */
const MIGRATIONS: string[][] = [
  [
    `CREATE TABLE users (
      id BIGSERIAL PRIMARY KEY,
      username TEXT COLLATE "C" NOT NULL UNIQUE,
      team_slug TEXT COLLATE "C" NOT NULL,
      password_hash TEXT NOT NULL,
      created_at TEXT NOT NULL
    )`,
    `CREATE TABLE tokens (
      hash TEXT COLLATE "C" PRIMARY KEY,
      user_id BIGINT NOT NULL REFERENCES users(id),
      kind TEXT NOT NULL,
      expires_at BIGINT NOT NULL,
      family TEXT COLLATE "C" NOT NULL,
      rotated_at BIGINT
    )`,
    'CREATE INDEX tokens_family ON tokens(family)',
    'CREATE INDEX tokens_expiry ON tokens(expires_at)',
    `CREATE TABLE events (
      seq BIGSERIAL PRIMARY KEY,
      event_id TEXT COLLATE "C" NOT NULL,
      team_slug TEXT COLLATE "C" NOT NULL,
      project_uuid TEXT COLLATE "C" NOT NULL,
      project_slug TEXT COLLATE "C",
      event_type TEXT NOT NULL,
      timestamp TEXT NOT NULL,
      lamport_clock BIGINT NOT NULL,
      node_id TEXT COLLATE "C" NOT NULL,
      envelope TEXT NOT NULL,
      received_at TEXT NOT NULL,
      UNIQUE (team_slug, event_id)
    )`,
    'CREATE INDEX events_project ON events(team_slug, project_uuid, seq)',
    'CREATE INDEX events_team_clock ON events(team_slug, lamport_clock)',
    `CREATE TABLE board (
      team_slug TEXT COLLATE "C" NOT NULL,
      project_uuid TEXT COLLATE "C" NOT NULL,
      feature_slug TEXT COLLATE "C" NOT NULL,
      wp_id TEXT COLLATE "C" NOT NULL,
      lane TEXT NOT NULL,
      last_event_id TEXT COLLATE "C" NOT NULL,
      updated_at TEXT NOT NULL,
      ts_key TEXT COLLATE "C" NOT NULL,
      lamport_clock BIGINT NOT NULL,
      node_id TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (team_slug, project_uuid, feature_slug, wp_id)
    )`,
    `CREATE TABLE projects (
      team_slug TEXT COLLATE "C" NOT NULL,
      project_uuid TEXT COLLATE "C" NOT NULL,
      project_slug TEXT COLLATE "C",
      event_count BIGINT NOT NULL,
      last_event_at TEXT NOT NULL,
      last_ts_key TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (team_slug, project_uuid)
    )`,
  ],
  // 2: the time of the event a project's slug comes from (the rule in pg-sql.ts), every slug worked out again from the events
  [
    'ALTER TABLE projects ADD COLUMN slug_ts_key TEXT COLLATE "C"',
    `UPDATE projects p SET project_slug = s.project_slug, slug_ts_key = s.slug_ts_key
    FROM (
      SELECT DISTINCT ON (team_slug, project_uuid) team_slug, project_uuid, project_slug, (${timestampKeySql('timestamp')}) COLLATE "C" AS slug_ts_key
      FROM events WHERE project_slug IS NOT NULL
      ORDER BY team_slug, project_uuid, slug_ts_key DESC, project_slug DESC
    ) s
    WHERE p.team_slug = s.team_slug AND p.project_uuid = s.project_uuid`,
  ],
];

const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** Any fixed 64-bit number: every kitty that migrates this database takes the same lock. */
const MIGRATION_LOCK = 0x6b69_7474_7973;

/** The database's schema version; 0 when kitty never migrated it. */
async function schemaVersion(db: Pool | PoolClient): Promise<number> {
  const table = await db.query<{ present: boolean }>("SELECT to_regclass('kitty_schema') IS NOT NULL AS present");
  if (!table.rows[0]!.present) return 0;
  const row = await db.query<{ version: number }>('SELECT version FROM kitty_schema');
  return row.rows[0]?.version ?? 0;
}

/**
 * Brings the database to PG_SCHEMA_VERSION, each step in its own transaction, under an advisory
 * lock: instances started together migrate one after the other, and the later ones find the work
 * done. A database from a newer kitty is left untouched. Returns the versions before and after.
 */
export async function migrate(pool: Pool): Promise<{ from: number; to: number }> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const from = await schemaVersion(client);
    if (from > PG_SCHEMA_VERSION) throw tooNew(from);
    for (let version = from; version < PG_SCHEMA_VERSION; version++) await step(client, version);
    return { from, to: PG_SCHEMA_VERSION };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

async function step(client: PoolClient, from: number): Promise<void> {
  await client.query('BEGIN');
  try {
    if (from === 0) await client.query('CREATE TABLE kitty_schema (version INTEGER NOT NULL)');
    for (const ddl of MIGRATIONS[from]!) await client.query(ddl);
    await client.query(from === 0 ? 'INSERT INTO kitty_schema (version) VALUES ($1)' : 'UPDATE kitty_schema SET version = $1', [from + 1]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

const tooNew = (seen: number): SchemaError =>
  new SchemaError('KITTY_SERVER_SCHEMA_TOO_NEW', `the database has kitty schema version ${seen}; this kitty knows up to ${PG_SCHEMA_VERSION}`);

/** A server serves only the schema it was written for: an older one is migrated by a person, on purpose. */
export async function requireCurrentSchema(pool: Pool, migrateCommand: string): Promise<void> {
  const seen = await schemaVersion(pool);
  if (seen > PG_SCHEMA_VERSION) throw tooNew(seen);
  if (seen < PG_SCHEMA_VERSION) {
    throw new SchemaError(
      'KITTY_SERVER_SCHEMA_OUTDATED',
      `the database has kitty schema version ${seen}${seen === 0 ? ' (never migrated)' : ''}; this kitty needs ${PG_SCHEMA_VERSION}: run \`${migrateCommand}\``,
    );
  }
}

import type { Database as Db } from 'better-sqlite3';
import { timestampKey, timestampKeySql } from '../validate.js';
import { SchemaError } from './schema-error.js';

/**
 * The database's schema version lives in `PRAGMA user_version`. Version 0 is the first release's
 * schema (event_id unique across all teams, no board table); every server.db ever written starts
 * there, so a fresh database is created at 0 and walks the same migrations an old one does.
 */
const VERSION_0 = [
  `CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    team_slug TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    team_slug TEXT NOT NULL,
    project_uuid TEXT NOT NULL,
    project_slug TEXT,
    event_type TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    lamport_clock INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    envelope TEXT NOT NULL,
    received_at TEXT NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS events_project ON events(team_slug, project_uuid, seq)',
];

/**
 * 1: events unique per team (two teams syncing one repository send the same ids); the Lamport clock
 * per team (index); token families, so a session can be revoked as a whole; the board and the
 * project list kept as tables updated with each event instead of being computed from all events.
 */
function toVersion1(db: Db): void {
  db.exec(`CREATE TABLE events_v1 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    team_slug TEXT NOT NULL,
    project_uuid TEXT NOT NULL,
    project_slug TEXT,
    event_type TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    lamport_clock INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    envelope TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (team_slug, event_id)
  )`);
  db.exec(
    'INSERT INTO events_v1 SELECT seq, event_id, team_slug, project_uuid, project_slug, event_type, timestamp, lamport_clock, node_id, envelope, received_at FROM events ORDER BY seq',
  );
  db.exec('DROP TABLE events');
  db.exec('ALTER TABLE events_v1 RENAME TO events');
  db.exec('CREATE INDEX events_project ON events(team_slug, project_uuid, seq)');
  db.exec('CREATE INDEX events_team_clock ON events(team_slug, lamport_clock)');

  db.exec('ALTER TABLE tokens ADD COLUMN family TEXT');
  db.exec('ALTER TABLE tokens ADD COLUMN rotated_at INTEGER');
  // which access token came with which refresh token was never recorded: a user's sessions from
  // before families are one family, so revoking any of them ends them all rather than too few
  db.exec("UPDATE tokens SET family = 'legacy-' || user_id");
  db.exec('CREATE INDEX tokens_family ON tokens(family)');

  db.exec(`CREATE TABLE board (
    team_slug TEXT NOT NULL,
    project_uuid TEXT NOT NULL,
    feature_slug TEXT NOT NULL,
    wp_id TEXT NOT NULL,
    lane TEXT NOT NULL,
    last_event_id TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ts_key TEXT NOT NULL,
    lamport_clock INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    PRIMARY KEY (team_slug, project_uuid, feature_slug, wp_id)
  )`);
  db.exec(`CREATE TABLE projects (
    team_slug TEXT NOT NULL,
    project_uuid TEXT NOT NULL,
    project_slug TEXT,
    event_count INTEGER NOT NULL,
    last_event_at TEXT NOT NULL,
    last_ts_key TEXT NOT NULL,
    PRIMARY KEY (team_slug, project_uuid)
  )`);
  backfill(db);
}

/** The project upsert as version 1 ran it: its table has no slug_ts_key yet (version 2 works the slugs out again). */
const PROJECT_UPSERT_V1 = `INSERT INTO projects (team_slug, project_uuid, project_slug, event_count, last_event_at, last_ts_key)
  VALUES (@team_slug, @project_uuid, @project_slug, @event_count, @timestamp, @ts_key)
  ON CONFLICT (team_slug, project_uuid) DO UPDATE SET
    event_count = projects.event_count + excluded.event_count,
    project_slug = CASE WHEN excluded.project_slug IS NOT NULL AND (projects.project_slug IS NULL OR excluded.last_ts_key > projects.last_ts_key
      OR (excluded.last_ts_key = projects.last_ts_key AND excluded.project_slug > projects.project_slug)) THEN excluded.project_slug ELSE projects.project_slug END,
    last_event_at = CASE WHEN excluded.last_ts_key > projects.last_ts_key THEN excluded.last_event_at ELSE projects.last_event_at END,
    last_ts_key = MAX(excluded.last_ts_key, projects.last_ts_key)`;

type Row = {
  seq: number;
  team_slug: string;
  project_uuid: string;
  project_slug: string | null;
  event_type: string;
  timestamp: string;
  lamport_clock: number;
  node_id: string;
  event_id: string;
  envelope: string;
};

/**
 * One pass over the events already stored, through the same statements new events go through; read
 * in pages, since a connection cannot write while a read over it is still open.
 */
function backfill(db: Db): void {
  const board = db.prepare(BOARD_UPSERT);
  const project = db.prepare(PROJECT_UPSERT_V1);
  const rows = db.prepare(
    'SELECT seq, team_slug, project_uuid, project_slug, event_type, timestamp, lamport_clock, node_id, event_id, envelope FROM events WHERE seq > ? ORDER BY seq LIMIT 1000',
  );
  for (let after = 0, page = rows.all(after) as Row[]; page.length > 0; after = page.at(-1)!.seq, page = rows.all(after) as Row[]) {
    for (const row of page) {
      const tsKey = timestampKey(row.timestamp);
      project.run({ ...row, ts_key: tsKey, event_count: 1 });
      if (row.event_type !== 'WPStatusChanged') continue;
      const payload = (JSON.parse(row.envelope) as { payload: { feature_slug: string; wp_id: string; to_lane: string } }).payload;
      board.run({ ...row, feature_slug: payload.feature_slug, wp_id: payload.wp_id, lane: payload.to_lane, ts_key: tsKey });
    }
  }
}

/** A WP's card moves only for an event later in board order (timestamp, lamport_clock, node_id, event_id) than the one it shows. */
export const BOARD_UPSERT = `INSERT INTO board (team_slug, project_uuid, feature_slug, wp_id, lane, last_event_id, updated_at, ts_key, lamport_clock, node_id)
  VALUES (@team_slug, @project_uuid, @feature_slug, @wp_id, @lane, @event_id, @timestamp, @ts_key, @lamport_clock, @node_id)
  ON CONFLICT (team_slug, project_uuid, feature_slug, wp_id) DO UPDATE SET
    lane = excluded.lane, last_event_id = excluded.last_event_id, updated_at = excluded.updated_at,
    ts_key = excluded.ts_key, lamport_clock = excluded.lamport_clock, node_id = excluded.node_id
  WHERE (excluded.ts_key, excluded.lamport_clock, excluded.node_id, excluded.last_event_id) > (board.ts_key, board.lamport_clock, board.node_id, board.last_event_id)`;

/**
 * A project's slug is that of its latest event that names one (of such events at one time, the
 * greatest slug), so a renamed repository shows its new name whatever order its events arrive in;
 * `slug_ts_key` is the time of the event the slug comes from (null: none named one yet, or a kitty
 * before schema 2 wrote the slug, when the project's latest time stands in for it).
 */
const NEWER_SLUG = `excluded.project_slug IS NOT NULL AND (projects.project_slug IS NULL
      OR excluded.slug_ts_key > COALESCE(projects.slug_ts_key, projects.last_ts_key)
      OR (excluded.slug_ts_key = COALESCE(projects.slug_ts_key, projects.last_ts_key) AND excluded.project_slug > projects.project_slug))`;

export const PROJECT_UPSERT = `INSERT INTO projects (team_slug, project_uuid, project_slug, slug_ts_key, event_count, last_event_at, last_ts_key)
  VALUES (@team_slug, @project_uuid, @project_slug, @slug_ts_key, @event_count, @timestamp, @ts_key)
  ON CONFLICT (team_slug, project_uuid) DO UPDATE SET
    event_count = projects.event_count + excluded.event_count,
    project_slug = CASE WHEN ${NEWER_SLUG} THEN excluded.project_slug ELSE projects.project_slug END,
    slug_ts_key = CASE WHEN ${NEWER_SLUG} THEN excluded.slug_ts_key ELSE projects.slug_ts_key END,
    last_event_at = CASE WHEN excluded.last_ts_key > projects.last_ts_key THEN excluded.last_event_at ELSE projects.last_event_at END,
    last_ts_key = MAX(excluded.last_ts_key, projects.last_ts_key)`;

/**
 * 2: the time of the event a project's slug comes from, so an event that names no slug no longer
 * hides a slug named by an earlier event arriving after it; every project's slug is worked out again
 * from its events by that rule.
 */
function toVersion2(db: Db): void {
  db.exec('ALTER TABLE projects ADD COLUMN slug_ts_key TEXT');
  db.exec(`UPDATE projects SET (project_slug, slug_ts_key) = (
    SELECT e.project_slug, ${timestampKeySql('e.timestamp')} FROM events e
    WHERE e.team_slug = projects.team_slug AND e.project_uuid = projects.project_uuid AND e.project_slug IS NOT NULL
    ORDER BY 2 DESC, 1 DESC LIMIT 1)`);
}

const MIGRATIONS: ((db: Db) => void)[] = [toVersion1, toVersion2];
const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to SCHEMA_VERSION, each step in one IMMEDIATE transaction that re-reads the
 * version first: a `kitty server user add` opening the same file at the same time waits, then finds
 * the work done. A database from a newer kitty is left untouched.
 */
export function migrate(db: Db): void {
  db.transaction(() => {
    if (version(db) === 0) for (const ddl of VERSION_0) db.exec(ddl);
  }).immediate();
  for (;;) {
    const done = db
      .transaction(() => {
        const current = version(db);
        if (current > SCHEMA_VERSION)
          throw new SchemaError(
            'KITTY_SERVER_SCHEMA_TOO_NEW',
            `server.db has schema version ${current}; this kitty knows up to ${SCHEMA_VERSION}: upgrade kitty`,
          );
        if (current === SCHEMA_VERSION) return true;
        MIGRATIONS[current]!(db);
        db.pragma(`user_version = ${current + 1}`);
        return false;
      })
      .immediate();
    if (done) return;
  }
}

function version(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

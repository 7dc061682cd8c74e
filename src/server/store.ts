import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword, verifyPassword } from './passwords.js';

export type TokenKind = 'access' | 'refresh' | 'ws';

export interface User {
  id: number;
  username: string;
  teamSlug: string;
}

export interface EventResult {
  event_id: string;
  status: 'success' | 'duplicate' | 'rejected';
  error?: string;
}

interface StoredEvent {
  event_id: string;
  team_slug: string;
  project_uuid: string;
  project_slug: string | null;
  timestamp: string;
  lamport_clock: number;
  node_id: string;
  event_type: string;
  payload: Record<string, unknown>;
}

const DDL = [
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

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The reference server's SQLite store: users, hashed tokens, events (unique event_id), board. */
export class ServerStore {
  private readonly db: Db;
  private readonly stmts: Record<string, Statement>;
  private clock: number;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'server.db'), { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    for (const ddl of DDL) this.db.exec(ddl);
    this.stmts = {
      userByName: this.db.prepare('SELECT id, username, team_slug AS teamSlug, password_hash AS hash FROM users WHERE username = ?'),
      insertUser: this.db.prepare('INSERT INTO users (username, team_slug, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET team_slug = excluded.team_slug, password_hash = excluded.password_hash'),
      insertToken: this.db.prepare('INSERT INTO tokens (hash, user_id, kind, expires_at) VALUES (?, ?, ?, ?)'),
      tokenUser: this.db.prepare('SELECT u.id, u.username, u.team_slug AS teamSlug FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ? AND t.kind = ? AND t.expires_at > ?'),
      deleteToken: this.db.prepare('DELETE FROM tokens WHERE hash = ?'),
      purgeTokens: this.db.prepare('DELETE FROM tokens WHERE expires_at <= ?'),
      insertEvent: this.db.prepare(`INSERT INTO events (event_id, team_slug, project_uuid, project_slug, event_type, timestamp, lamport_clock, node_id, envelope, received_at)
        VALUES (@event_id, @team_slug, @project_uuid, @project_slug, @event_type, @timestamp, @lamport_clock, @node_id, @envelope, @received_at)
        ON CONFLICT(event_id) DO NOTHING`),
      projects: this.db.prepare(`SELECT project_uuid, MAX(project_slug) AS project_slug, COUNT(*) AS event_count, MAX(timestamp) AS last_event_at
        FROM events WHERE team_slug = ? GROUP BY project_uuid ORDER BY last_event_at DESC`),
      // the board is the last event of each WP in contract order (timestamp, lamport_clock, node_id,
      // event_id), read from the events themselves so it can never drift from what is stored
      board: this.db.prepare(`SELECT feature_slug, wp_id, lane, event_id AS last_event_id, timestamp AS updated_at FROM (
          SELECT json_extract(envelope, '$.payload.feature_slug') AS feature_slug, json_extract(envelope, '$.payload.wp_id') AS wp_id,
            json_extract(envelope, '$.payload.to_lane') AS lane, event_id, timestamp,
            ROW_NUMBER() OVER (PARTITION BY json_extract(envelope, '$.payload.feature_slug'), json_extract(envelope, '$.payload.wp_id')
              ORDER BY julianday(timestamp) DESC, lamport_clock DESC, node_id DESC, event_id DESC) AS rank
          FROM events WHERE team_slug = ? AND project_uuid = ? AND event_type = 'WPStatusChanged')
        WHERE rank = 1 ORDER BY feature_slug, wp_id`),
      eventsAfter: this.db.prepare(`SELECT envelope FROM events WHERE team_slug = ? AND project_uuid = ?
        AND seq > COALESCE((SELECT seq FROM events WHERE event_id = ?), 0) ORDER BY seq LIMIT ?`),
    };
    this.clock = (this.db.prepare('SELECT COALESCE(MAX(lamport_clock), 0) AS c FROM events').get() as { c: number }).c;
  }

  close(): void {
    this.db.close();
  }

  get serverClock(): number {
    return this.clock;
  }

  addUser(username: string, teamSlug: string, password: string): void {
    this.stmts.insertUser!.run(username, teamSlug, hashPassword(password), new Date().toISOString());
  }

  authenticate(username: string, password: string): User | null {
    const row = this.stmts.userByName!.get(username) as (User & { hash: string }) | undefined;
    if (!row || !verifyPassword(password, row.hash)) return null;
    return { id: row.id, username: row.username, teamSlug: row.teamSlug };
  }

  issueToken(user: User, kind: TokenKind, lifetimeSeconds: number): string {
    const token = randomBytes(32).toString('base64url');
    this.stmts.insertToken!.run(tokenHash(token), user.id, kind, Date.now() + lifetimeSeconds * 1000);
    return token;
  }

  /** The user a live token belongs to; a ws token is single use. */
  userForToken(token: string, kind: TokenKind): User | null {
    const hash = tokenHash(token);
    const user = (this.stmts.tokenUser!.get(hash, kind, Date.now()) as User | undefined) ?? null;
    if (user && kind === 'ws') this.stmts.deleteToken!.run(hash);
    return user;
  }

  revoke(token: string): void {
    this.stmts.deleteToken!.run(tokenHash(token));
  }

  purgeExpiredTokens(): void {
    this.stmts.purgeTokens!.run(Date.now());
  }

  /**
   * Stores validated events for `team` in one transaction, each once: an event_id already stored
   * is `duplicate`.
   */
  ingest(team: string, events: readonly { envelope: StoredEvent; raw: string }[]): EventResult[] {
    return this.db.transaction(() => {
      const receivedAt = new Date().toISOString();
      return events.map(({ envelope, raw }): EventResult => {
        const inserted = this.stmts.insertEvent!.run({ ...envelope, team_slug: team, project_slug: envelope.project_slug ?? null, envelope: raw, received_at: receivedAt });
        if (inserted.changes === 0) return { event_id: envelope.event_id, status: 'duplicate' };
        this.clock = Math.max(this.clock, envelope.lamport_clock);
        return { event_id: envelope.event_id, status: 'success' };
      });
    })();
  }

  projects(team: string): unknown[] {
    return this.stmts.projects!.all(team);
  }

  board(team: string, projectUuid: string): { features: Record<string, Record<string, { lane: string; last_event_id: string; updated_at: string }>> } {
    const features: Record<string, Record<string, { lane: string; last_event_id: string; updated_at: string }>> = {};
    for (const row of this.stmts.board!.all(team, projectUuid) as { feature_slug: string; wp_id: string; lane: string; last_event_id: string; updated_at: string }[]) {
      (features[row.feature_slug] ??= {})[row.wp_id] = { lane: row.lane, last_event_id: row.last_event_id, updated_at: row.updated_at };
    }
    return { features };
  }

  eventsAfter(team: string, projectUuid: string, afterEventId: string | null, limit: number): unknown[] {
    return (this.stmts.eventsAfter!.all(team, projectUuid, afterEventId ?? '', limit) as { envelope: string }[]).map((row) => JSON.parse(row.envelope) as unknown);
  }
}

import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Database as Db, Statement } from 'better-sqlite3';
import Database from '../../deps/better-sqlite3.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../passwords.js';
import { timestampKey } from '../validate.js';
import { Changes } from './changes.js';
import { pageOf } from './page.js';
import { BOARD_UPSERT, migrate, PROJECT_UPSERT } from './sqlite-schema.js';
import { newFamily, newToken, tokenHash } from './tokens.js';
import {
  type Accepted,
  type Board,
  type Change,
  type EventResult,
  emptyBoard,
  type Lane,
  type ProjectSummary,
  placeCard,
  type RefreshOutcome,
  type Session,
  type Store,
  type StoredEvent,
  type TokenKind,
  type User,
} from './types.js';

/** An event just stored, with what the board and the project list order it by. */
type Row = Pick<StoredEvent, 'event_id' | 'project_uuid' | 'project_slug' | 'event_type' | 'timestamp' | 'lamport_clock' | 'node_id' | 'payload'> & {
  ts_key: string;
};

/** A slug from an event at `tsKey` replaces one from an event at `currentTsKey`: it is later, or as late and greater (PROJECT_UPSERT). */
function laterSlug(tsKey: string, slug: string, currentTsKey: string, current: string | null): boolean {
  return current === null || tsKey > currentTsKey || (tsKey === currentTsKey && slug > current);
}

/** Rows read at a time for a page of events. */
const PAGE_CHUNK = 100;

/** Board order: (timestamp, lamport_clock, node_id, event_id), the order the board's SQL applies too. */
function later(a: Row, b: Row): boolean {
  if (a.ts_key !== b.ts_key) return a.ts_key > b.ts_key;
  if (a.lamport_clock !== b.lamport_clock) return a.lamport_clock > b.lamport_clock;
  if (a.node_id !== b.node_id) return a.node_id > b.node_id;
  return a.event_id > b.event_id;
}

/**
 * The server's data is one user's business: the directory is made 0700 (when this user owns it)
 * and the database files 0600, whatever the umask.
 */
function privateDataDir(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const stat = statSync(dataDir);
  if ((stat.mode & 0o077) !== 0 && typeof process.getuid === 'function' && stat.uid === process.getuid()) chmodSync(dataDir, 0o700);
  const file = join(dataDir, 'server.db');
  // created before SQLite opens it: SQLite gives its -wal and -shm files the database file's mode
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  return file;
}

function privateFiles(file: string): void {
  for (const path of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(path) && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  }
}

function prepare(db: Db): Record<string, Statement> {
  const statements = {
    userByName: 'SELECT id, username, team_slug AS teamSlug, password_hash AS hash FROM users WHERE username = ?',
    insertUser:
      'INSERT INTO users (username, team_slug, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(username) DO UPDATE SET team_slug = excluded.team_slug, password_hash = excluded.password_hash',
    insertToken: 'INSERT INTO tokens (hash, user_id, kind, expires_at, family) VALUES (?, ?, ?, ?, ?)',
    tokenSession: `SELECT u.id, u.username, u.team_slug AS teamSlug, t.family, t.rotated_at AS rotatedAt, t.expires_at AS expiresAt FROM tokens t JOIN users u ON u.id = t.user_id
      WHERE t.hash = ? AND t.kind = ? AND t.expires_at > ?`,
    rotate: 'UPDATE tokens SET rotated_at = ? WHERE hash = ? AND rotated_at IS NULL',
    deleteToken: 'DELETE FROM tokens WHERE hash = ?',
    familyOf: "SELECT family FROM tokens WHERE hash = ? AND kind = 'refresh'",
    deleteFamily: 'DELETE FROM tokens WHERE family = ?',
    purgeTokens: 'DELETE FROM tokens WHERE expires_at <= ?',
    // positional: bound from the envelope's fields directly, with no row object built per event
    insertEvent: `INSERT INTO events (event_id, team_slug, project_uuid, project_slug, event_type, timestamp, lamport_clock, node_id, envelope, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(team_slug, event_id) DO NOTHING`,
    boardUpsert: BOARD_UPSERT,
    projectUpsert: PROJECT_UPSERT,
    teamClock: 'SELECT COALESCE(MAX(lamport_clock), 0) AS c FROM events WHERE team_slug = ?',
    projects: `SELECT project_uuid, project_slug, event_count, last_event_at FROM projects WHERE team_slug = ? ORDER BY last_ts_key DESC, project_uuid`,
    board: 'SELECT feature_slug, wp_id, lane, last_event_id, updated_at FROM board WHERE team_slug = ? AND project_uuid = ? ORDER BY feature_slug, wp_id',
    cursor: 'SELECT seq FROM events WHERE team_slug = ? AND event_id = ? AND project_uuid = ?',
    page: 'SELECT seq, envelope FROM events WHERE team_slug = ? AND project_uuid = ? AND seq > ? ORDER BY seq LIMIT ?',
  };
  return Object.fromEntries(Object.entries(statements).map(([name, sql]) => [name, db.prepare(sql)]));
}

/**
 * The embedded store: one SQLite file under --data, one process. better-sqlite3 is synchronous;
 * the methods are async only to share the Store interface with PostgreSQL. The team clock is kept
 * in memory, since this process is the only writer.
 */
export class SqliteStore implements Store {
  private readonly db: Db;
  private readonly stmts: Record<string, Statement>;
  private readonly clocks = new Map<string, number>();
  private readonly changes = new Changes();

  constructor(dataDir: string) {
    const file = privateDataDir(dataDir);
    this.db = new Database(file, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    // an ack tells the client it may forget the event: the commit before it must survive a power
    // loss too, which in WAL mode only FULL promises (NORMAL may roll back the last commits)
    this.db.pragma('synchronous = FULL');
    migrate(this.db);
    privateFiles(file);
    this.stmts = prepare(this.db);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  onChange(listener: (change: Change) => void): void {
    this.changes.add(listener);
  }

  async teamClock(team: string): Promise<number> {
    return this.clock(team);
  }

  private clock(team: string): number {
    let clock = this.clocks.get(team);
    if (clock === undefined) {
      clock = (this.stmts.teamClock!.get(team) as { c: number }).c;
      this.clocks.set(team, clock);
    }
    return clock;
  }

  async addUser(username: string, teamSlug: string, password: string): Promise<void> {
    this.stmts.insertUser!.run(username, teamSlug, hashPassword(password), new Date().toISOString());
  }

  async authenticate(username: string, password: string): Promise<User | null> {
    const row = this.stmts.userByName!.get(username) as (User & { hash: string }) | undefined;
    const matches = await verifyPassword(password, row?.hash ?? DUMMY_HASH);
    return row && matches ? { id: row.id, username: row.username, teamSlug: row.teamSlug } : null;
  }

  async openSession(user: User, accessLifetime: number, refreshLifetime: number): Promise<{ access: string; refresh: string }> {
    const family = newFamily();
    return { access: await this.issueToken(user, 'access', accessLifetime, family), refresh: await this.issueToken(user, 'refresh', refreshLifetime, family) };
  }

  async issueToken(user: User, kind: TokenKind, lifetimeSeconds: number, family: string): Promise<string> {
    const { token, hash } = newToken();
    this.stmts.insertToken!.run(hash, user.id, kind, Date.now() + lifetimeSeconds * 1000, family);
    return token;
  }

  async sessionForToken(token: string, kind: TokenKind): Promise<Session | null> {
    const hash = tokenHash(token);
    const row = this.stmts.tokenSession!.get(hash, kind, Date.now()) as (Session & { rotatedAt: number | null }) | undefined;
    if (!row || row.rotatedAt !== null) return null;
    if (kind === 'ws') this.stmts.deleteToken!.run(hash);
    return { id: row.id, username: row.username, teamSlug: row.teamSlug, family: row.family, expiresAt: row.expiresAt };
  }

  async useRefreshToken(token: string, graceMs: number): Promise<RefreshOutcome> {
    const hash = tokenHash(token);
    const now = Date.now();
    const revoked: { family?: string } = {};
    const outcome = this.db
      .transaction((): RefreshOutcome => {
        const row = this.stmts.tokenSession!.get(hash, 'refresh', now) as (Session & { rotatedAt: number | null }) | undefined;
        if (!row) return { kind: 'invalid' };
        if (row.rotatedAt !== null) {
          if (now - row.rotatedAt <= graceMs) return { kind: 'reused', revoked: false };
          this.stmts.deleteFamily!.run(row.family);
          revoked.family = row.family;
          return { kind: 'reused', revoked: true };
        }
        this.stmts.rotate!.run(now, hash);
        return { kind: 'ok', session: { id: row.id, username: row.username, teamSlug: row.teamSlug, family: row.family } };
      })
      .immediate();
    // a replay ends the session as a logout does: its open sockets close too
    if (revoked.family) this.changes.emit({ kind: 'revoked', family: revoked.family });
    return outcome;
  }

  async revokeFamilyOf(refreshToken: string): Promise<string | null> {
    const row = this.stmts.familyOf!.get(tokenHash(refreshToken)) as { family: string } | undefined;
    if (!row) return null;
    this.stmts.deleteFamily!.run(row.family);
    this.changes.emit({ kind: 'revoked', family: row.family });
    return row.family;
  }

  async purgeExpiredTokens(): Promise<void> {
    this.stmts.purgeTokens!.run(Date.now());
  }

  async ingest(team: string, events: readonly Accepted[]): Promise<EventResult[]> {
    const stored: Row[] = [];
    const insert = this.stmts.insertEvent!;
    const results = this.db.transaction(() => {
      const receivedAt = new Date().toISOString();
      const answers = events.map(({ envelope: e, raw }): EventResult => {
        const slug = e.project_slug ?? null;
        if (insert.run(e.event_id, team, e.project_uuid, slug, e.event_type, e.timestamp, e.lamport_clock, e.node_id, raw, receivedAt).changes === 0) {
          return { event_id: e.event_id, status: 'duplicate' };
        }
        stored.push({
          event_id: e.event_id,
          project_uuid: e.project_uuid,
          project_slug: slug,
          event_type: e.event_type,
          timestamp: e.timestamp,
          lamport_clock: e.lamport_clock,
          node_id: e.node_id,
          payload: e.payload,
          ts_key: timestampKey(e.timestamp),
        });
        return { event_id: e.event_id, status: 'success' };
      });
      this.apply(team, stored);
      return answers;
    })();
    if (stored.length > 0) this.changes.emit({ kind: 'events', team, projects: [...new Set(stored.map((row) => row.project_uuid))] });
    return results;
  }

  /** One board write per WP and one project write per project for a whole batch: per event, they cost more than storing it. */
  private apply(team: string, stored: readonly Row[]): void {
    const projects = new Map<string, Row & { count: number; slugTsKey: string }>();
    const cards = new Map<string, Row>();
    let clock = this.clock(team);
    for (const row of stored) {
      clock = Math.max(clock, row.lamport_clock);
      const project = projects.get(row.project_uuid);
      if (!project) projects.set(row.project_uuid, { ...row, count: 1, slugTsKey: row.ts_key });
      else {
        project.count++;
        if (row.project_slug !== null && laterSlug(row.ts_key, row.project_slug, project.slugTsKey, project.project_slug)) {
          Object.assign(project, { project_slug: row.project_slug, slugTsKey: row.ts_key });
        }
        if (row.ts_key > project.ts_key) Object.assign(project, { ts_key: row.ts_key, timestamp: row.timestamp });
      }
      if (row.event_type !== 'WPStatusChanged') continue;
      const { feature_slug: feature, wp_id: wp } = row.payload as { feature_slug: string; wp_id: string };
      // no string of a validated event holds a NUL: the key is unambiguous
      const key = `${row.project_uuid}\0${feature}\0${wp}`;
      const current = cards.get(key);
      if (!current || later(row, current)) cards.set(key, row);
    }
    for (const project of projects.values()) {
      const { project_uuid, project_slug, timestamp, ts_key, slugTsKey } = project;
      const slug_ts_key = project_slug === null ? null : slugTsKey;
      this.stmts.projectUpsert!.run({ team_slug: team, project_uuid, project_slug, event_count: project.count, timestamp, ts_key, slug_ts_key });
    }
    for (const row of cards.values()) {
      const { feature_slug, wp_id, to_lane: lane } = row.payload as { feature_slug: string; wp_id: string; to_lane: string };
      const { project_uuid, event_id, timestamp, ts_key, lamport_clock, node_id } = row;
      this.stmts.boardUpsert!.run({ team_slug: team, project_uuid, feature_slug, wp_id, lane, event_id, timestamp, ts_key, lamport_clock, node_id });
    }
    this.clocks.set(team, clock);
  }

  async projects(team: string): Promise<ProjectSummary[]> {
    return this.stmts.projects!.all(team) as ProjectSummary[];
  }

  async board(team: string, projectUuid: string): Promise<Board> {
    const board = emptyBoard();
    for (const row of this.stmts.board!.all(team, projectUuid) as (Lane & { feature_slug: string; wp_id: string })[]) placeCard(board, row);
    return board;
  }

  async eventsAfter(
    team: string,
    projectUuid: string,
    afterEventId: string | null,
    limit: number,
    maxBytes: number,
  ): Promise<{ events: string[]; more: boolean }> {
    const cursor = afterEventId ? (this.stmts.cursor!.get(team, afterEventId, projectUuid) as { seq: number } | undefined) : undefined;
    const read = (afterSeq: number, count: number) => this.stmts.page!.all(team, projectUuid, afterSeq, count) as { seq: number; envelope: string }[];
    return pageOf(inChunks(read, cursor?.seq ?? 0, limit + 1), limit, maxBytes);
  }
}

/**
 * Up to `total` rows after `afterSeq`, read a chunk at a time as the caller goes on: a page stops
 * at its byte budget without reading the rest (the role an iterator would play, see deps/better-sqlite3.ts).
 */
function* inChunks(read: (afterSeq: number, count: number) => { seq: number; envelope: string }[], afterSeq: number, total: number) {
  for (let after = afterSeq, left = total; left > 0; ) {
    const count = Math.min(PAGE_CHUNK, left);
    const rows = read(after, count);
    yield* rows;
    if (rows.length < count) return;
    left -= rows.length;
    after = rows.at(-1)!.seq;
  }
}

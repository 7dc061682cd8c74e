import type pg from 'pg';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../passwords.js';
import { timestampKey } from '../validate.js';
import { Changes } from './changes.js';
import { pageOf } from './page.js';
import { TeamBatches } from './pg-batches.js';
import { CHANNEL, ChangeListener } from './pg-listen.js';
import { INGEST, REVOKE_FAMILY } from './pg-sql.js';
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
  type TokenKind,
  type User,
} from './types.js';

/** Aborted by the database to break a deadlock or a serialization conflict: safe to run again, since nothing of it was kept. */
const RETRYABLE = new Set(['40P01', '40001']);

type SessionRow = { id: string; username: string; team_slug: string; family: string; rotated_at: string | null; expires_at?: string };

const session = (row: SessionRow): Session => ({ id: Number(row.id), username: row.username, teamSlug: row.team_slug, family: row.family });

/** The batch as the statement's parameters (pg-sql.ts): an array per field, and the envelopes' texts as one JSON array. */
function batchParams(events: readonly Accepted[]): unknown[] {
  const columns: unknown[][] = Array.from({ length: 11 }, () => []);
  for (const { envelope } of events) {
    const payload = envelope.payload as { feature_slug?: unknown; wp_id?: unknown; to_lane?: unknown };
    const card = envelope.event_type === 'WPStatusChanged' ? [payload.feature_slug, payload.wp_id, payload.to_lane] : [null, null, null];
    const fields = [
      envelope.event_id,
      envelope.project_uuid,
      envelope.project_slug ?? null,
      envelope.event_type,
      envelope.timestamp,
      envelope.lamport_clock,
      envelope.node_id,
      timestampKey(envelope.timestamp),
      ...card,
    ];
    for (const [i, value] of fields.entries()) columns[i]!.push(value);
  }
  return [...columns, `[${events.map((event) => event.raw).join(',')}]`];
}

/**
 * The team store: one PostgreSQL database shared by any number of server instances. Nothing lives
 * in an instance's memory that another needs: dedup is the unique constraint, the board and project
 * list are updated in the statement that stores the events, and changes reach every instance through
 * LISTEN/NOTIFY. The team clock is read from the events once, then kept from this instance's stores
 * and the other instances' notifications: it may trail theirs by a notification's delay, which
 * only matters to the far-ahead check (a lead of a million).
 */
export class PostgresStore implements Store {
  private readonly changes = new Changes();
  private readonly clocks = new Map<string, number>();
  private readonly batches = new TeamBatches((team, events) => this.store(team, events));

  private listener: ChangeListener | null = null;

  private constructor(private readonly pool: pg.Pool) {}

  /** Over a connected pool; starts the instance's one listening connection. */
  static async open(pool: pg.Pool, log: (line: string) => void): Promise<PostgresStore> {
    const store = new PostgresStore(pool);
    store.listener = await ChangeListener.start(pool.options, (change) => store.heard(change), log);
    return store;
  }

  /** Every change comes back through the database, this instance's own too: one path for all. */
  private heard(change: Change): void {
    if (change.kind === 'events' && change.clock !== undefined) this.raise(change.team, change.clock);
    this.changes.emit(change);
  }

  async close(): Promise<void> {
    await this.listener?.stop();
    await this.pool.end();
  }

  onChange(listener: (change: Change) => void): void {
    this.changes.add(listener);
  }

  /** `name` makes it a prepared statement on each connection: the ingest statement costs more to plan than to run for a small batch. */
  private async query<R extends pg.QueryResultRow>(sql: string, values: unknown[], name?: string): Promise<pg.QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.query<R>({ text: sql, values, name });
      } catch (error) {
        if (attempt >= 5 || !RETRYABLE.has((error as { code?: string }).code ?? '')) throw error;
      }
    }
  }

  async teamClock(team: string): Promise<number> {
    const known = this.clocks.get(team);
    if (known !== undefined) return known;
    const { rows } = await this.query<{ c: string }>('SELECT COALESCE(MAX(lamport_clock), 0) AS c FROM events WHERE team_slug = $1', [team]);
    // another read of the same clock may have finished first
    this.clocks.set(team, Math.max(this.clocks.get(team) ?? 0, Number(rows[0]!.c)));
    return this.clocks.get(team)!;
  }

  /** A clock this instance keeps (read once) only grows; one it never read stays unread: a batch's clock is not the team's. */
  private raise(team: string, clock: number): void {
    const known = this.clocks.get(team);
    if (known !== undefined && clock > known) this.clocks.set(team, clock);
  }

  async addUser(username: string, teamSlug: string, password: string): Promise<void> {
    await this.query(
      `INSERT INTO users (username, team_slug, password_hash, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (username) DO UPDATE SET team_slug = excluded.team_slug, password_hash = excluded.password_hash`,
      [username, teamSlug, hashPassword(password), new Date().toISOString()],
    );
  }

  async authenticate(username: string, password: string): Promise<User | null> {
    const { rows } = await this.query<{ id: string; username: string; team_slug: string; password_hash: string }>(
      'SELECT id, username, team_slug, password_hash FROM users WHERE username = $1',
      [username],
    );
    const row = rows[0];
    const matches = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
    return row && matches ? { id: Number(row.id), username: row.username, teamSlug: row.team_slug } : null;
  }

  async openSession(user: User, accessLifetime: number, refreshLifetime: number): Promise<{ access: string; refresh: string }> {
    const family = newFamily();
    return { access: await this.issueToken(user, 'access', accessLifetime, family), refresh: await this.issueToken(user, 'refresh', refreshLifetime, family) };
  }

  async issueToken(user: User, kind: TokenKind, lifetimeSeconds: number, family: string): Promise<string> {
    const { token, hash } = newToken();
    await this.query('INSERT INTO tokens (hash, user_id, kind, expires_at, family) VALUES ($1, $2, $3, $4, $5)', [
      hash,
      user.id,
      kind,
      Date.now() + lifetimeSeconds * 1000,
      family,
    ]);
    return token;
  }

  /** A ws token is deleted by the statement that reads it: two instances given the same token cannot both accept it. */
  async sessionForToken(token: string, kind: TokenKind): Promise<Session | null> {
    const sql =
      kind === 'ws'
        ? `DELETE FROM tokens t USING users u WHERE t.hash = $1 AND t.kind = $2 AND t.expires_at > $3 AND t.rotated_at IS NULL AND u.id = t.user_id
           RETURNING u.id, u.username, u.team_slug, t.family, t.rotated_at, t.expires_at`
        : `SELECT u.id, u.username, u.team_slug, t.family, t.rotated_at, t.expires_at FROM tokens t JOIN users u ON u.id = t.user_id
           WHERE t.hash = $1 AND t.kind = $2 AND t.expires_at > $3 AND t.rotated_at IS NULL`;
    const { rows } = await this.query<SessionRow>(sql, [tokenHash(token), kind, Date.now()]);
    return rows[0] ? { ...session(rows[0]), expiresAt: Number(rows[0].expires_at) } : null;
  }

  async useRefreshToken(token: string, graceMs: number): Promise<RefreshOutcome> {
    const hash = tokenHash(token);
    const now = Date.now();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<SessionRow>(
        `SELECT u.id, u.username, u.team_slug, t.family, t.rotated_at FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE t.hash = $1 AND t.kind = 'refresh' AND t.expires_at > $2 FOR UPDATE OF t`,
        [hash, now],
      );
      const outcome = await this.rotate(client, rows[0], hash, now, graceMs);
      await client.query('COMMIT');
      return outcome;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async rotate(client: pg.PoolClient, row: SessionRow | undefined, hash: string, now: number, graceMs: number): Promise<RefreshOutcome> {
    if (!row) return { kind: 'invalid' };
    if (row.rotated_at !== null) {
      if (now - Number(row.rotated_at) <= graceMs) return { kind: 'reused', revoked: false };
      await client.query('DELETE FROM tokens WHERE family = $1', [row.family]);
      // a replay ends the session as a logout does: every instance closes its sockets (on commit)
      await client.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ kind: 'revoked', family: row.family })]);
      return { kind: 'reused', revoked: true };
    }
    await client.query('UPDATE tokens SET rotated_at = $1 WHERE hash = $2', [now, hash]);
    return { kind: 'ok', session: session(row) };
  }

  async revokeFamilyOf(refreshToken: string): Promise<string | null> {
    const { rows } = await this.query<{ family: string }>(REVOKE_FAMILY, [tokenHash(refreshToken), CHANNEL]);
    return rows[0]?.family ?? null;
  }

  async purgeExpiredTokens(): Promise<void> {
    await this.query('DELETE FROM tokens WHERE expires_at <= $1', [Date.now()]);
  }

  ingest(team: string, events: readonly Accepted[]): Promise<EventResult[]> {
    return this.batches.submit(team, events);
  }

  private async store(team: string, events: readonly Accepted[]): Promise<EventResult[]> {
    const { rows } = await this.query<{ stored: string[] | null }>(INGEST, [team, new Date().toISOString(), CHANNEL, ...batchParams(events)], 'kitty-ingest');
    const stored = new Set(rows[0]!.stored ?? []);
    for (const { envelope } of events) if (stored.has(envelope.event_id)) this.raise(team, envelope.lamport_clock);
    // an id twice in one batch is stored once: its first copy is the success
    return events.map(({ envelope: { event_id } }): EventResult => ({ event_id, status: stored.delete(event_id) ? 'success' : 'duplicate' }));
  }

  async projects(team: string): Promise<ProjectSummary[]> {
    const { rows } = await this.query<ProjectSummary & { event_count: string }>(
      'SELECT project_uuid, project_slug, event_count, last_event_at FROM projects WHERE team_slug = $1 ORDER BY last_ts_key DESC, project_uuid',
      [team],
    );
    return rows.map((row) => ({ ...row, event_count: Number(row.event_count) }));
  }

  async board(team: string, projectUuid: string): Promise<Board> {
    const { rows } = await this.query<Lane & { feature_slug: string; wp_id: string }>(
      'SELECT feature_slug, wp_id, lane, last_event_id, updated_at FROM board WHERE team_slug = $1 AND project_uuid = $2 ORDER BY feature_slug, wp_id',
      [team, projectUuid],
    );
    const board = emptyBoard();
    for (const row of rows) placeCard(board, row);
    return board;
  }

  /** Only rows that can still be on the page leave the database: a page of large events is not read whole. */
  async eventsAfter(
    team: string,
    projectUuid: string,
    afterEventId: string | null,
    limit: number,
    maxBytes: number,
  ): Promise<{ events: string[]; more: boolean }> {
    const { rows } = await this.query<{ envelope: string }>(
      `SELECT envelope FROM (
         SELECT seq, envelope, SUM(char_length(envelope)) OVER (ORDER BY seq) - char_length(envelope) AS before
         FROM (SELECT seq, envelope FROM events WHERE team_slug = $1 AND project_uuid = $2
                 AND seq > COALESCE((SELECT seq FROM events WHERE team_slug = $1 AND event_id = $3 AND project_uuid = $2), 0)
               ORDER BY seq LIMIT $4) candidates
       ) sized
       WHERE before <= $5 ORDER BY seq`,
      [team, projectUuid, afterEventId ?? '', limit + 1, maxBytes],
    );
    return pageOf(rows, limit, maxBytes);
  }
}

export type TokenKind = 'access' | 'refresh' | 'ws';

export interface User {
  id: number;
  username: string;
  teamSlug: string;
}

/** A user as a token proves them, with the session (token family) the token belongs to. */
export interface Session extends User {
  family: string;
  /** When the token this session was found by stops being valid (ms since the epoch), if looked up by one. */
  expiresAt?: number;
}

export interface EventResult {
  event_id: string;
  status: 'success' | 'duplicate' | 'rejected';
  error?: string;
  /** Stable reason code of a rejection. */
  code?: string;
}

export interface StoredEvent {
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

/** A validated event as ingest hands it to the store: the envelope and its JSON text as stored. */
export interface Accepted {
  envelope: StoredEvent;
  raw: string;
}

export type RefreshOutcome = { kind: 'ok'; session: Session } | { kind: 'invalid' } | { kind: 'reused'; revoked: boolean };

export type Lane = { lane: string; last_event_id: string; updated_at: string };
/** Keyed by names clients choose: built on null prototypes, so a feature called `__proto__` is just a key. */
export type Board = { features: Record<string, Record<string, Lane>> };

export interface ProjectSummary {
  project_uuid: string;
  project_slug: string | null;
  event_count: number;
  last_event_at: string;
}

/**
 * What other parts of the server react to: events stored in a team's projects (the dashboard
 * refreshes) and a session revoked (its sockets close). With several instances on one database,
 * every instance hears every change, whichever instance made it, with the team clock it reached.
 */
export type Change = { kind: 'events'; team: string; projects: string[]; clock?: number } | { kind: 'revoked'; family: string };

/**
 * The server's store: users, hashed tokens in session families, events (unique per team), the
 * board and project list kept as events arrive. SQLite (one process) and PostgreSQL (several
 * instances on one database) give the same answers.
 */
export interface Store {
  /** The team's Lamport clock: the highest lamport_clock it stored. Teams never see each other's. */
  teamClock(team: string): Promise<number>;
  addUser(username: string, teamSlug: string, password: string): Promise<void>;
  /** Always one scrypt check, also for an unknown user, so the answer's cost does not tell who exists. */
  authenticate(username: string, password: string): Promise<User | null>;
  /** A new session: an access and a refresh token of a new family. */
  openSession(user: User, accessLifetime: number, refreshLifetime: number): Promise<{ access: string; refresh: string }>;
  issueToken(user: User, kind: TokenKind, lifetimeSeconds: number, family: string): Promise<string>;
  /** The session a live token belongs to; a ws token is single use; a rotated refresh token is no longer live. */
  sessionForToken(token: string, kind: TokenKind): Promise<Session | null>;
  /**
   * Uses up a refresh token. One already used is a replay: past `graceMs` after its rotation the
   * whole family is revoked (whoever holds the newer tokens, thief or owner, must log in again);
   * within it, it is only refused, since two local processes may refresh at the same moment.
   */
  useRefreshToken(token: string, graceMs: number): Promise<RefreshOutcome>;
  /** Ends the session a refresh token belongs to (rotated or not) and announces it; the family id, or null when unknown. */
  revokeFamilyOf(refreshToken: string): Promise<string | null>;
  purgeExpiredTokens(): Promise<void>;
  /**
   * Stores validated events of `team` atomically, each once per team (an event_id the team already
   * holds is `duplicate`; another team's events never count), and updates the board and the project
   * list with what was stored. One result per event, in order.
   */
  ingest(team: string, events: readonly Accepted[]): Promise<EventResult[]>;
  projects(team: string): Promise<ProjectSummary[]>;
  board(team: string, projectUuid: string): Promise<Board>;
  /**
   * A page of the project's events after the cursor, as stored JSON texts: at most `limit` events
   * and about `maxBytes` (always at least one event, so a page always moves on). The cursor is looked
   * up in the caller's team and project only; one it does not hold starts from the beginning.
   */
  eventsAfter(team: string, projectUuid: string, afterEventId: string | null, limit: number, maxBytes: number): Promise<{ events: string[]; more: boolean }>;
  onChange(listener: (change: Change) => void): void;
  close(): Promise<void>;
}

export function emptyBoard(): Board {
  return { features: Object.create(null) as Board['features'] };
}

/** Adds a card to a board built on null prototypes. */
export function placeCard(board: Board, row: Lane & { feature_slug: string; wp_id: string }): void {
  board.features[row.feature_slug] ??= Object.create(null) as Record<string, Lane>;
  const wps = board.features[row.feature_slug]!;
  wps[row.wp_id] = { lane: row.lane, last_event_id: row.last_event_id, updated_at: row.updated_at };
}

import type { Database } from 'better-sqlite3';

export const CLOCK_DDL = `CREATE TABLE IF NOT EXISTS clock (
  node_id TEXT PRIMARY KEY,
  value INTEGER NOT NULL
)`;

/**
 * Above this a Lamport value cannot come from use: a team making a million events a day would
 * need 770,000 years to reach 2^48. Such a value is poison (one client once sent 2^53-1, and every
 * client that adopted it could only stamp values the server refused), so the clock ignores it,
 * wherever it is found, and counts on from the highest sane value: a poisoned clock heals itself.
 */
export const MAX_LAMPORT = 2 ** 48;

/**
 * The most one server clock may move this machine's clock forward. A client joining a team adopts
 * the team's clock in one step, and no real team is a billion events ahead of one of its clients;
 * a server clock further ahead is a poisoned or foreign clock and is not adopted.
 */
export const MAX_CLOCK_JUMP = 1_000_000_000;

/** Why a server clock must not be adopted by a clock at `local`; null when it may. */
export function serverClockProblem(serverClock: number, local: number): string | null {
  if (!Number.isSafeInteger(serverClock) || serverClock < 0) return `server clock ${serverClock} is not a whole number from 0 to 2^53-1`;
  if (serverClock > MAX_LAMPORT) return `server clock ${serverClock} is above 2^48, which no real use reaches`;
  if (serverClock > local + MAX_CLOCK_JUMP) return `server clock ${serverClock} is more than ${MAX_CLOCK_JUMP} ahead of this machine's clock (${local})`;
  return null;
}

/** An event's stamp that no server should accept and no sane clock hands out. */
export function isAbsurdLamport(value: unknown): boolean {
  return !Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_LAMPORT;
}

/**
 * Lamport clock persisted as a row of the queue database. A tick is one `UPDATE … RETURNING`, so
 * run inside the enqueue's IMMEDIATE transaction it is atomic with the insert: concurrent processes
 * never see the same value. The row is never trusted alone: every tick also takes the highest value
 * already used in the queue (`floorSql`), so a lost or corrupted row can never make it go backwards.
 * Values above MAX_LAMPORT, in the row or in the queue, are poison and count as nothing.
 */
export class LamportClock {
  private readonly seed;
  private readonly tickStmt;
  private readonly receiveStmt;
  private readonly peekStmt;

  /** `floorSql` is a scalar query of the highest clock already used by `@node`, up to `@ceiling`. */
  constructor(db: Database, floorSql: string) {
    const row = 'CASE WHEN CAST(value AS INTEGER) BETWEEN 0 AND @ceiling THEN CAST(value AS INTEGER) ELSE 0 END';
    const current = `MAX(${row}, (${floorSql}))`;
    this.seed = db.prepare('INSERT INTO clock(node_id, value) VALUES (?, 0) ON CONFLICT(node_id) DO NOTHING');
    this.tickStmt = db.prepare(`UPDATE clock SET value = ${current} + 1 WHERE node_id = @node RETURNING value`);
    this.receiveStmt = db.prepare(`UPDATE clock SET value = MAX(${current}, @received) WHERE node_id = @node RETURNING value`);
    this.peekStmt = db.prepare(`SELECT MAX(COALESCE((SELECT ${row} FROM clock WHERE node_id = @node), 0), (${floorSql})) AS value`);
  }

  /** Next value for `nodeId`; call inside a write transaction. */
  tick(nodeId: string): number {
    this.seed.run(nodeId);
    return (this.tickStmt.get({ node: nodeId, ceiling: MAX_LAMPORT }) as { value: number }).value;
  }

  /**
   * Lamport receive: the clock moves to at least `serverClock` (the next tick exceeds it), unless
   * that clock is absurd (serverClockProblem): then the clock stays where it is.
   */
  receive(nodeId: string, serverClock: number): number {
    const local = this.peek(nodeId);
    if (serverClockProblem(serverClock, local) !== null) return local;
    this.seed.run(nodeId);
    return (this.receiveStmt.get({ node: nodeId, received: serverClock, ceiling: MAX_LAMPORT }) as { value: number }).value;
  }

  /** The last value handed out (0 before the first tick). */
  peek(nodeId: string): number {
    return (this.peekStmt.get({ node: nodeId, ceiling: MAX_LAMPORT }) as { value: number }).value;
  }
}

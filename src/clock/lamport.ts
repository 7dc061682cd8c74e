import type { Database } from 'better-sqlite3';

export const CLOCK_DDL = `CREATE TABLE IF NOT EXISTS clock (
  node_id TEXT PRIMARY KEY,
  value INTEGER NOT NULL
)`;

/**
 * Lamport clock persisted as a row of the queue database. A tick is one `UPDATE … RETURNING`, so
 * run inside the enqueue's IMMEDIATE transaction it is atomic with the insert: concurrent processes
 * never see the same value. The row is never trusted alone: every tick also takes the highest value
 * already used in the queue (`floorSql`), so a lost or corrupted row can never make it go backwards.
 */
export class LamportClock {
  private readonly seed;
  private readonly tickStmt;
  private readonly receiveStmt;
  private readonly peekStmt;

  /** `floorSql` is a scalar query of the highest clock already used by `@node`. */
  constructor(db: Database, floorSql: string) {
    const current = `MAX(COALESCE(CAST(value AS INTEGER), 0), (${floorSql}))`;
    this.seed = db.prepare('INSERT INTO clock(node_id, value) VALUES (?, 0) ON CONFLICT(node_id) DO NOTHING');
    this.tickStmt = db.prepare(`UPDATE clock SET value = ${current} + 1 WHERE node_id = @node RETURNING value`);
    this.receiveStmt = db.prepare(`UPDATE clock SET value = MAX(${current}, @received) WHERE node_id = @node RETURNING value`);
    this.peekStmt = db.prepare(
      `SELECT MAX(COALESCE((SELECT CAST(value AS INTEGER) FROM clock WHERE node_id = @node), 0), (${floorSql})) AS value`,
    );
  }

  /** Next value for `nodeId`; call inside a write transaction. */
  tick(nodeId: string): number {
    this.seed.run(nodeId);
    return (this.tickStmt.get({ node: nodeId }) as { value: number }).value;
  }

  /** Lamport receive: the clock moves to at least `serverClock` (the next tick exceeds it). */
  receive(nodeId: string, serverClock: number): number {
    if (!Number.isSafeInteger(serverClock) || serverClock < 0) return this.peek(nodeId);
    this.seed.run(nodeId);
    return (this.receiveStmt.get({ node: nodeId, received: serverClock }) as { value: number }).value;
  }

  /** The last value handed out (0 before the first tick). */
  peek(nodeId: string): number {
    return (this.peekStmt.get({ node: nodeId }) as { value: number }).value;
  }
}

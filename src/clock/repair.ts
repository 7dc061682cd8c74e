import type { Database as Db } from 'better-sqlite3';
import Database from '../deps/better-sqlite3.js';
import { CLOCK_FLOOR_SQL } from '../queue/schema.js';
import { LamportClock, MAX_LAMPORT } from './lamport.js';

/** The marker a Lamport rejection's reason carries (drain.ts adds it), so the reset finds those events again. */
export const RESET_CLOCK_HINT = 'run `kitty sync reset-clock`, then `kitty sync flush`';

/**
 * absurd: pending events stamped above MAX_LAMPORT (a clock poisoned before kitty bounded it);
 * unsent: every pending event, and those the server rejected for their Lamport value.
 */
type RestampScope = 'absurd' | 'unsent';

export interface RestampResult {
  restamped: number;
  /** Dead events (rejected for their clock) that are pending again. */
  revived: number;
  /** Per node: the clock before (as stored, poison included) and after. */
  clocks: { nodeId: string; before: number; after: number }[];
}

interface Target {
  seq: number;
  node_id: string;
  state: string;
}

function targets(db: Db, scope: RestampScope): Target[] {
  const which =
    scope === 'absurd'
      ? "state = 'pending' AND (lamport_clock > @ceiling OR lamport_clock < 1)"
      : "(state = 'pending' OR (state = 'dead' AND instr(last_error, @marker) > 0))";
  return db
    .prepare(`SELECT seq, node_id, state FROM events WHERE ${which} AND json_valid(envelope) ORDER BY seq`)
    .all({ ceiling: MAX_LAMPORT, marker: RESET_CLOCK_HINT }) as Target[];
}

function storedClock(db: Db, nodeId: string): number {
  const row = db
    .prepare(
      'SELECT MAX(COALESCE(CAST((SELECT value FROM clock WHERE node_id = @node) AS INTEGER), 0), COALESCE((SELECT MAX(lamport_clock) FROM events WHERE node_id = @node), 0)) AS value',
    )
    .get({ node: nodeId }) as { value: number };
  return row.value;
}

/**
 * Gives events fresh Lamport values in queue order, from a clock that ignores the values being
 * replaced. `unsent` also forgets every server clock adopted so far: the clock restarts from the
 * highest sane value among this node's other events (what the server already accepted), and the
 * next server answer moves it forward again, within bounds. Event ids do not depend on the clock,
 * so an event the server already holds is still answered `duplicate`.
 */
export function restamp(db: Db, scope: RestampScope, nodeIds: readonly string[] = []): RestampResult {
  return db
    .transaction(() => {
      const found = targets(db, scope);
      const nodes = [...new Set([...nodeIds, ...found.map((target) => target.node_id)])];
      const before = new Map(nodes.map((node) => [node, storedClock(db, node)]));
      const hide = db.prepare('UPDATE events SET lamport_clock = 0 WHERE seq = ?');
      for (const target of found) hide.run(target.seq);
      // unsent forgets every adopted server clock; absurd only a row that is poison itself
      const ceiling = scope === 'unsent' ? -1 : MAX_LAMPORT;
      const resetRow = db.prepare('UPDATE clock SET value = 0 WHERE node_id = @node AND value > @ceiling');
      for (const node of nodes) resetRow.run({ node, ceiling });
      const clock = new LamportClock(db, CLOCK_FLOOR_SQL);
      const stamp = db.prepare(`UPDATE events SET lamport_clock = @value, envelope = json_set(envelope, '$.lamport_clock', @value),
        state = 'pending', attempts = CASE WHEN state = 'dead' THEN 0 ELSE attempts END,
        last_error = CASE WHEN state = 'dead' THEN NULL ELSE last_error END, updated_at = @now WHERE seq = @seq`);
      const now = new Date().toISOString();
      for (const target of found) stamp.run({ value: clock.tick(target.node_id), now, seq: target.seq });
      return {
        restamped: found.length,
        revived: found.filter((target) => target.state === 'dead').length,
        clocks: nodes.map((node) => ({ nodeId: node, before: before.get(node)!, after: clock.peek(node) })),
      };
    })
    .immediate();
}

/** A second connection to the queue for these rare repairs, so the queue's own API stays as it is. */
export function withQueueDb<T>(path: string, fn: (db: Db) => T, timeoutMs = 10_000): T {
  const db = new Database(path, { timeout: timeoutMs });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

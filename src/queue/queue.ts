import { join } from 'node:path';
import type { Database as Db, Statement } from 'better-sqlite3';
import { LamportClock } from '../clock/lamport.js';
import Database from '../deps/better-sqlite3.js';
import type { FeatureLink, LedgerRecord } from '../derive/ledger.js';
import { ErrorCode, errnoCode } from '../errors/index.js';
import type { Envelope, EnvelopeDraft } from '../events/envelope.js';
import { type Env, ensureStateDir } from '../state/paths.js';
import { oversizeReason } from '../transport/limits.js';
import { queueError } from './errors.js';
import { backfillLedger, QueueLedgerStore } from './ledger-store.js';
import { CLOCK_FLOOR_SQL, EVENTS_DDL, QUEUE_SCHEMA_VERSION } from './schema.js';

export type EventState = 'pending' | 'delivered' | 'dead';
export const EVENT_STATES: readonly EventState[] = ['pending', 'delivered', 'dead'];

export interface QueuedEvent {
  seq: number;
  state: EventState;
  attempts: number;
  lastError: string | null;
  sendable: boolean;
  createdAt: string;
  updatedAt: string;
  envelope: Envelope;
}

interface QuarantinedRow {
  seq: number;
  eventId: string;
  error: string;
}

interface EnqueueResult {
  inserted: Envelope[];
  /** Already in the queue (same event_id): captured before, kept once. */
  ignored: number;
  /** Over the server's size limit of one event: stored dead with the reason, never sent. */
  tooLarge: { eventId: string; reason: string }[];
}

interface OpenOptions {
  env: Env;
  /** Busy timeout: how long a writer waits for another process's transaction. */
  timeoutMs?: number;
}

interface Row {
  seq: number;
  event_id: string;
  state: string;
  attempts: number;
  last_error: string | null;
  sendable: number;
  created_at: string;
  updated_at: string;
  envelope: string;
  lamport_clock: number;
}

/**
 * The durable queue shared by every kitty process of one user: SQLite in WAL mode with a busy
 * timeout, `event_id` unique and insert-or-ignore, so capturing a transition twice stores it once.
 */
export class EventQueue {
  readonly path: string;
  private readonly db: Db;
  private readonly clock: LamportClock;
  private readonly stmts: {
    exists: Statement;
    insert: Statement;
    quarantine: Statement;
    counts: Statement;
    deliver: Statement;
    kill: Statement;
    nextPending: Statement;
  };

  private constructor(db: Db, path: string) {
    this.db = db;
    this.path = path;
    this.clock = new LamportClock(db, CLOCK_FLOOR_SQL);
    this.stmts = {
      exists: db.prepare('SELECT 1 FROM events WHERE event_id = ?').pluck(),
      insert: db.prepare(`INSERT INTO events
        (event_id, node_id, lamport_clock, project_uuid, sendable, state, last_error, envelope, created_at, updated_at)
        VALUES (@event_id, @node_id, @lamport_clock, @project_uuid, @sendable, @state, @last_error, @envelope, @now, @now)`),
      quarantine: db.prepare("UPDATE events SET state = 'dead', last_error = @error, updated_at = @now WHERE seq = @seq"),
      counts: db.prepare('SELECT state, COUNT(*) AS n FROM events GROUP BY state'),
      deliver: db.prepare(
        "UPDATE events SET state = 'delivered', attempts = attempts + 1, last_error = NULL, updated_at = @now WHERE event_id = @id AND state = 'pending'",
      ),
      kill: db.prepare(
        "UPDATE events SET state = 'dead', attempts = attempts + 1, last_error = @error, updated_at = @now WHERE event_id = @id AND state = 'pending'",
      ),
      // read once per frame sent: prepared once
      nextPending: db.prepare("SELECT * FROM events WHERE state = 'pending' AND sendable = 1 AND seq > ? ORDER BY seq LIMIT ?"),
    };
  }

  static open(options: OpenOptions): EventQueue {
    const dir = ensureStateDir(options.env);
    const path = join(dir, 'queue.db');
    const timeoutMs = options.timeoutMs ?? busyTimeout(options.env);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let db: Db | undefined;
      try {
        db = new Database(path, { timeout: timeoutMs });
        // switching a fresh file to WAL can fail with SQLITE_BUSY at once, without the busy handler,
        // while another process makes the same switch: hence the check first and the retry below
        if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal') db.pragma('journal_mode = WAL');
        db.pragma('synchronous = FULL');
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version < QUEUE_SCHEMA_VERSION) {
          const handle = db;
          handle
            .transaction(() => {
              for (const ddl of EVENTS_DDL) handle.exec(ddl);
              // only a version-1 queue holds events the ledger has not seen
              if (version === 1) backfillLedger(handle);
              handle.pragma(`user_version = ${QUEUE_SCHEMA_VERSION}`);
            })
            .immediate();
        }
        return new EventQueue(db, path);
      } catch (error) {
        db?.close();
        if (errnoCode(error)?.startsWith('SQLITE_BUSY') && Date.now() < deadline) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.random() * 40);
          continue;
        }
        throw queueError(error, path);
      }
    }
  }

  close(): void {
    this.db.close();
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw queueError(error, this.path);
    }
  }

  /**
   * Appends events in one IMMEDIATE transaction. Each new event ticks the Lamport clock inside
   * that transaction; an event_id already queued is left as it is (its state and attempts too).
   * An event over the server's size limit is stored dead with the reason: sent, it would be refused
   * at best and cost the whole frame at worst; kept, it is visible and deduplicated like any other.
   */
  enqueue(
    drafts: readonly EnvelopeDraft[],
    ledger?: { store: QueueLedgerStore; records: readonly LedgerRecord[]; links: readonly FeatureLink[] },
  ): EnqueueResult {
    if (drafts.length === 0 && !ledger?.records.length && !ledger?.links.length) return { inserted: [], ignored: 0, tooLarge: [] };
    return this.guard(() =>
      this.db
        .transaction(() => {
          ledger?.store.save(ledger);
          const now = new Date().toISOString();
          const inserted: Envelope[] = [];
          const tooLarge: EnqueueResult['tooLarge'] = [];
          let ignored = 0;
          for (const draft of drafts) {
            if (this.stmts.exists.get(draft.event_id)) {
              ignored++;
              continue;
            }
            const envelope: Envelope = { ...draft, lamport_clock: this.clock.tick(draft.node_id) };
            const json = JSON.stringify(envelope);
            const tooBig = oversizeReason(envelope, Buffer.byteLength(json));
            this.stmts.insert.run({
              event_id: envelope.event_id,
              node_id: envelope.node_id,
              lamport_clock: envelope.lamport_clock,
              project_uuid: envelope.project_uuid,
              sendable: envelope.project_uuid ? 1 : 0,
              state: tooBig ? 'dead' : 'pending',
              last_error: tooBig ? `${ErrorCode.EVENT_TOO_LARGE}: ${tooBig}` : null,
              envelope: json,
              now,
            });
            if (tooBig) tooLarge.push({ eventId: envelope.event_id, reason: tooBig });
            else inserted.push(envelope);
          }
          return { inserted, ignored, tooLarge };
        })
        .immediate(),
    );
  }

  /** The exactly-once ledger of a project (null uuid: events kept locally only). */
  ledgerStore(projectUuid: string | null): QueueLedgerStore {
    return this.guard(() => new QueueLedgerStore(this.db, projectUuid ?? ''));
  }

  has(eventId: string): boolean {
    return this.guard(() => Boolean(this.stmts.exists.get(eventId)));
  }

  /**
   * Events in queue order. A row whose envelope cannot be read is quarantined (moved to dead with
   * the reason, kept for inspection), never dropped, and reported instead of returned.
   */
  list(filter: { state?: EventState | 'all'; limit?: number } = {}): { events: QueuedEvent[]; quarantined: QuarantinedRow[] } {
    return this.guard(() => {
      const where = filter.state && filter.state !== 'all' ? 'WHERE state = @state' : '';
      const limit = filter.limit ? 'LIMIT @limit' : '';
      const rows = this.db
        .prepare(`SELECT * FROM events ${where} ORDER BY seq ${limit}`)
        .all({ ...(where ? { state: filter.state } : {}), ...(limit ? { limit: filter.limit } : {}) }) as Row[];
      return this.readRows(rows);
    });
  }

  private readRows(rows: Row[]): { events: QueuedEvent[]; quarantined: QuarantinedRow[] } {
    const events: QueuedEvent[] = [];
    const quarantined: QuarantinedRow[] = [];
    for (const row of rows) {
      const envelope = readEnvelope(row);
      if (typeof envelope === 'string') {
        const error = `${ErrorCode.QUEUE_ROW_CORRUPT}: ${envelope}`;
        if (row.state !== 'dead' || row.last_error !== error) {
          this.stmts.quarantine.run({ seq: row.seq, error, now: new Date().toISOString() });
        }
        quarantined.push({ seq: row.seq, eventId: row.event_id, error: envelope });
        continue;
      }
      events.push({
        seq: row.seq,
        state: row.state as EventState,
        attempts: row.attempts,
        lastError: row.last_error,
        sendable: row.sendable === 1,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
        envelope,
      });
    }
    return { events, quarantined };
  }

  counts(): Record<EventState, number> {
    return this.guard(() => {
      const result: Record<EventState, number> = { pending: 0, delivered: 0, dead: 0 };
      for (const row of this.stmts.counts.all() as { state: EventState; n: number }[]) result[row.state] = row.n;
      return result;
    });
  }

  /**
   * Up to `limit` pending, sendable events after `afterSeq`, oldest first. Unreadable rows are
   * quarantined on the way (see list()).
   */
  nextPending(limit: number, afterSeq = 0): { events: QueuedEvent[]; quarantined: QuarantinedRow[] } {
    return this.guard(() => {
      const rows = this.stmts.nextPending.all(afterSeq, limit) as Row[];
      return this.readRows(rows);
    });
  }

  /**
   * Applies a server's per-event results in one transaction: success and duplicate are delivered,
   * rejected is dead with the server's reason. Only a result moves an event out of pending. The
   * server clocks that came with them (one per ack; several acks may be applied at once) are
   * received in order in the same transaction: one commit for them all. `clock` is this machine's
   * Lamport clock afterwards (null: none was received).
   */
  applyResults(
    results: readonly { event_id: string; status: string; error?: string }[],
    received?: { nodeId: string; serverClock: number | readonly number[] },
  ): { delivered: number; dead: number; clock: number | null } {
    return this.guard(() =>
      this.db
        .transaction(() => {
          const now = new Date().toISOString();
          let delivered = 0;
          let dead = 0;
          for (const result of results) {
            if (result.status === 'success' || result.status === 'duplicate') {
              delivered += this.stmts.deliver.run({ id: result.event_id, now }).changes;
            } else if (result.status === 'rejected') {
              dead += this.stmts.kill.run({ id: result.event_id, now, error: `rejected by server: ${result.error ?? 'no reason given'}` }).changes;
            }
          }
          let clock: number | null = null;
          const serverClocks = typeof received?.serverClock === 'number' ? [received.serverClock] : (received?.serverClock ?? []);
          for (const serverClock of serverClocks) clock = this.clock.receive(received!.nodeId, serverClock);
          return { delivered, dead, clock };
        })
        .immediate(),
    );
  }

  /** Dead events back to pending (all, or the given ids); returns how many moved. */
  retryDead(eventIds: readonly string[] = []): number {
    return this.guard(() =>
      this.db
        .transaction(() => {
          const now = new Date().toISOString();
          if (eventIds.length === 0) {
            return this.db
              .prepare(
                "UPDATE events SET state = 'pending', attempts = 0, updated_at = ? WHERE state = 'dead' AND last_error NOT LIKE 'KITTY_ERR_QUEUE_ROW_CORRUPT%'",
              )
              .run(now).changes;
          }
          let moved = 0;
          const stmt = this.db.prepare("UPDATE events SET state = 'pending', attempts = 0, updated_at = ? WHERE state = 'dead' AND event_id = ?");
          for (const id of eventIds) moved += stmt.run(now, id).changes;
          return moved;
        })
        .immediate(),
    );
  }

  /** Age facts for `kitty sync status`. */
  stats(): { oldestPending: string | null; lastError: string | null; notSendable: number } {
    return this.guard(() => {
      // the first queued, by seq (the index's order): MIN(created_at) read every pending event
      const oldest = (this.db.prepare("SELECT created_at AS at FROM events WHERE state = 'pending' AND sendable = 1 ORDER BY seq LIMIT 1").get() as
        | { at: string }
        | undefined) ?? { at: null };
      const last = this.db.prepare('SELECT last_error FROM events WHERE last_error IS NOT NULL ORDER BY updated_at DESC LIMIT 1').get() as
        | { last_error: string }
        | undefined;
      // named: without statistics the planner would rather walk every pending event by events_state
      const local = this.db.prepare("SELECT COUNT(*) AS n FROM events INDEXED BY events_local WHERE state = 'pending' AND sendable = 0").get() as {
        n: number;
      };
      return { oldestPending: oldest.at, lastError: last?.last_error ?? null, notSendable: local.n };
    });
  }

  /** The Lamport value last handed out for `nodeId` (what the next event would follow). */
  peekClock(nodeId: string): number {
    return this.guard(() => this.clock.peek(nodeId));
  }

  /** Applies a server clock (Lamport receive). */
  receiveClock(nodeId: string, serverClock: number): number {
    return this.guard(() => this.db.transaction(() => this.clock.receive(nodeId, serverClock)).immediate());
  }
}

/** KITTY_QUEUE_TIMEOUT_MS tunes how long a writer waits for the queue (default 10 s). */
function busyTimeout(env: Env): number {
  const value = Number(env.KITTY_QUEUE_TIMEOUT_MS);
  return Number.isSafeInteger(value) && value > 0 ? value : 10_000;
}

function readEnvelope(row: Row): Envelope | string {
  let value: unknown;
  try {
    value = JSON.parse(row.envelope);
  } catch (error) {
    return `envelope is not JSON (${(error as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || (value as Envelope).event_id !== row.event_id) {
    return 'envelope does not match its row (event_id differs or missing)';
  }
  return value as Envelope;
}

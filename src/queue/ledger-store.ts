import type { Database as Db, Statement } from 'better-sqlite3';
import type { FeatureLink, LedgerRecord, LedgerStore } from '../derive/ledger.js';
import { naturalKey } from '../derive/natural.js';
import type { Envelope, TransitionSource } from '../events/envelope.js';

export const LEDGER_DDL = [
  `CREATE TABLE IF NOT EXISTS transitions (
    project TEXT NOT NULL,
    natural_key TEXT NOT NULL,
    ref TEXT NOT NULL,
    event_id TEXT NOT NULL,
    source TEXT NOT NULL,
    to_lane TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    alias INTEGER NOT NULL,
    PRIMARY KEY (project, natural_key)
  )`,
  'CREATE INDEX IF NOT EXISTS transitions_ref ON transitions(project, ref)',
  `CREATE TABLE IF NOT EXISTS feature_links (
    project TEXT NOT NULL,
    feature TEXT NOT NULL,
    canonical TEXT NOT NULL,
    PRIMARY KEY (project, feature)
  )`,
];

interface RecordRow {
  natural_key: string;
  ref: string;
  event_id: string;
  source: TransitionSource;
  to_lane: string;
  at_ms: number;
  alias: number;
}

/**
 * The exactly-once ledger of one project kept in the queue database: every transition captured,
 * by natural identity, and every alias decided, so later runs (hooks, `derive`, a fresh clone on
 * this machine) resolve a transition named another way to the event already queued.
 */
export class QueueLedgerStore implements LedgerStore {
  private readonly select: Statement;
  private readonly selectLink: Statement;
  private readonly insert: Statement;
  private readonly insertLink: Statement;

  constructor(
    db: Db,
    private readonly project: string,
  ) {
    this.select = db.prepare('SELECT * FROM transitions WHERE project = ? AND ref = ? ORDER BY rowid');
    this.selectLink = db.prepare('SELECT canonical FROM feature_links WHERE project = ? AND feature = ?').pluck();
    this.insert = db.prepare(`INSERT OR IGNORE INTO transitions (project, natural_key, ref, event_id, source, to_lane, at_ms, alias)
      VALUES (@project, @key, @ref, @eventId, @source, @toLane, @atMs, @alias)`);
    this.insertLink = db.prepare('INSERT OR IGNORE INTO feature_links (project, feature, canonical) VALUES (?, ?, ?)');
  }

  records(ref: string): LedgerRecord[] {
    return (this.select.all(this.project, ref) as RecordRow[]).map((row) => ({
      key: row.natural_key,
      ref: row.ref,
      eventId: row.event_id,
      source: row.source,
      toLane: row.to_lane,
      atMs: row.at_ms,
      alias: row.alias === 1,
    }));
  }

  featureLink(feature: string): string | null {
    return (this.selectLink.get(this.project, feature) as string | undefined) ?? null;
  }

  /** Call inside the transaction that queues the events these decisions belong to. */
  save(decisions: { records: readonly LedgerRecord[]; links: readonly FeatureLink[] }): void {
    for (const record of decisions.records) this.insert.run({ ...record, project: this.project, alias: record.alias ? 1 : 0 });
    for (const link of decisions.links) this.insertLink.run(this.project, link.feature, link.canonical);
  }
}

/** Upgrade of a queue from before the ledger: its events become the ledger's first records. */
export function backfillLedger(db: Db): void {
  const insert = db.prepare(`INSERT OR IGNORE INTO transitions (project, natural_key, ref, event_id, source, to_lane, at_ms, alias)
    VALUES (?, ?, ?, ?, ?, ?, ?, 0)`);
  const page = db.prepare('SELECT seq, envelope FROM events WHERE seq > ? ORDER BY seq LIMIT 1000');
  // read in pages, not iterated: see deps/better-sqlite3.ts
  for (let rows = page.all(0) as { seq: number; envelope: string }[]; rows.length > 0; rows = page.all(rows.at(-1)!.seq) as typeof rows) {
    for (const { envelope: text } of rows) backfillOne(insert, text);
  }
}

function backfillOne(insert: Statement, text: string): void {
  let envelope: Envelope;
  try {
    envelope = JSON.parse(text) as Envelope;
  } catch {
    return;
  }
  const payload = envelope.payload as { feature_slug?: string; wp_id?: string; from_lane?: string | null; to_lane?: string; source?: TransitionSource };
  if (!payload.feature_slug || !payload.wp_id || !payload.to_lane || !payload.source) return;
  const ref = `${payload.feature_slug}/${payload.wp_id}`;
  const transition = { source: payload.source, fromLane: payload.from_lane ?? null, toLane: payload.to_lane, at: envelope.timestamp };
  insert.run(envelope.project_uuid ?? '', naturalKey(transition, ref), ref, envelope.event_id, payload.source, payload.to_lane, Date.parse(envelope.timestamp));
}

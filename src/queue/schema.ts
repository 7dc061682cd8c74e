import { CLOCK_DDL } from '../clock/lamport.js';
import { LEDGER_DDL } from './ledger-store.js';

/**
 * 1: events and clock; 2: the exactly-once ledger (transitions, feature_links); 3: indexes for what
 * `kitty sync status` asks (the last error, local-only events), which scanned every pending event.
 */
export const QUEUE_SCHEMA_VERSION = 3;

export const EVENTS_DDL = [
  `CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    node_id TEXT NOT NULL,
    lamport_clock INTEGER NOT NULL,
    project_uuid TEXT,
    sendable INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    envelope TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS events_state ON events(state, seq)',
  'CREATE INDEX IF NOT EXISTS events_node_clock ON events(node_id, lamport_clock)',
  'CREATE INDEX IF NOT EXISTS events_error ON events(updated_at) WHERE last_error IS NOT NULL',
  "CREATE INDEX IF NOT EXISTS events_local ON events(seq) WHERE state = 'pending' AND sendable = 0",
  CLOCK_DDL,
  ...LEDGER_DDL,
];

/** Highest sane clock this node already used (up to the clock's ceiling): the floor it never goes below. */
export const CLOCK_FLOOR_SQL = 'SELECT COALESCE(MAX(lamport_clock), 0) FROM events WHERE node_id = @node AND lamport_clock <= @ceiling';

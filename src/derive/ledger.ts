import type { TransitionSource } from '../events/envelope.js';

/** One natural transition already decided: captured as `eventId`, or an alias of it. */
export interface LedgerRecord {
  key: string;
  ref: string;
  eventId: string;
  source: TransitionSource;
  toLane: string;
  atMs: number;
  alias: boolean;
}

export interface FeatureLink {
  feature: string;
  canonical: string;
}

/** Where earlier runs left their decisions (the queue); read one WP at a time. */
export interface LedgerStore {
  records(ref: string): LedgerRecord[];
  featureLink(feature: string): string | null;
}

/** How a natural transition was decided: captured as `eventId`, or an alias. */
interface Decision {
  eventId: string;
  alias: boolean;
}

interface RefState {
  keys: Map<string, Decision>;
  lastLane: string | null;
  /** Latest time of a transition taken from the frontmatter (history entry or lane change). */
  frontmatterAtMs: number;
}

/**
 * What has been captured, by natural identity, so that a transition named a second way (a re-keyed
 * status line, a history entry seen again after a move, a backfilled line) resolves to the event
 * already captured. Reads through to the store; new decisions wait in `pending` until the caller
 * persists them together with the events.
 */
export class Ledger {
  private readonly refs = new Map<string, RefState>();
  private readonly links = new Map<string, string>();
  private records: LedgerRecord[] = [];
  private newLinks: FeatureLink[] = [];

  constructor(private readonly store: LedgerStore | null) {}

  /** The feature name a feature's transitions are kept under (its first name before renames). */
  canonicalFeature(feature: string): string {
    let canonical = this.links.get(feature);
    if (canonical === undefined) {
      canonical = this.store?.featureLink(feature) ?? feature;
      this.links.set(feature, canonical);
    }
    return canonical;
  }

  ref(feature: string, wpId: string): string {
    return `${this.canonicalFeature(feature)}/${wpId}`;
  }

  link(feature: string, renamedFrom: string): void {
    const canonical = this.canonicalFeature(renamedFrom);
    if (canonical === feature || this.canonicalFeature(feature) === canonical) return;
    this.links.set(feature, canonical);
    this.newLinks.push({ feature, canonical });
  }

  lookup(ref: string, key: string): Decision | undefined {
    return this.state(ref).keys.get(key);
  }

  hasAny(ref: string): boolean {
    return this.state(ref).keys.size > 0;
  }

  lastLane(ref: string): string | null {
    return this.state(ref).lastLane;
  }

  frontmatterAtMs(ref: string): number {
    return this.state(ref).frontmatterAtMs;
  }

  record(record: LedgerRecord): void {
    this.apply(this.state(record.ref), record);
    this.records.push(record);
  }

  /** The decisions made since the last call, for the caller to persist. */
  drain(): { records: LedgerRecord[]; links: FeatureLink[] } {
    const drained = { records: this.records, links: this.newLinks };
    this.records = [];
    this.newLinks = [];
    return drained;
  }

  private state(ref: string): RefState {
    let state = this.refs.get(ref);
    if (!state) {
      state = { keys: new Map(), lastLane: null, frontmatterAtMs: Number.NEGATIVE_INFINITY };
      for (const record of this.store?.records(ref) ?? []) this.apply(state, record);
      this.refs.set(ref, state);
    }
    return state;
  }

  private apply(state: RefState, record: LedgerRecord): void {
    state.keys.set(record.key, { eventId: record.eventId, alias: record.alias });
    if (record.alias) return;
    state.lastLane = record.toLane;
    if (record.source !== 'status-log') state.frontmatterAtMs = Math.max(state.frontmatterAtMs, record.atMs);
  }
}

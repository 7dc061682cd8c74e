/** Types of bench/history.mjs, so type-checked tests can import the generator. */

export type PatternName =
  | 'legacyFolders'
  | 'copies'
  | 'laneOnly'
  | 'rekey'
  | 'backfill'
  | 'logEra'
  | 'creationLines'
  | 'sameLaneLines'
  | 'otherLines'
  | 'flatten'
  | 'renameFeature'
  | 'materialize'
  | 'laneAlias'
  | 'longHistory'
  | 'batchMoves'
  | 'noise';

export declare const PATTERN_NAMES: readonly PatternName[];

export interface HistoryOptions {
  /** Same seed, same options: same commits, byte for byte (same shas). Default 1. */
  seed?: number;
  /** Commits on `main`, the initial one included. Default 300. */
  commits?: number;
  /** Features planned; those born after the last commit are left out. Default 12. */
  features?: number;
  /** WPs each feature starts with (busy features get more later). Default 6. */
  wpsPerFeature?: number;
  /** Approximate size of each WP body. Default 600. */
  bodyBytes?: number;
  /** When > 0, one commit appends one non-transition status line of this many bytes. Default 0. */
  hugeLineBytes?: number;
  /** Every pattern is on unless set to false here; an unknown name throws. */
  patterns?: Partial<Record<PatternName, boolean>>;
}

/** A lane transition that really happened, in commit order. */
export interface TruthTransition {
  /** The feature folder's name when the move happened (renames change it for later moves). */
  feature: string;
  wp: string;
  /** null for the WP's creation. */
  from: string | null;
  to: string;
  /** `new Date(x).toISOString().replace('.000Z', 'Z')` of the move's time. */
  at: string;
  /** The status line's own event_id when the move is a status line, else null. */
  eventId: string | null;
}

export interface GeneratedCommit {
  sha: string;
  /** Author date (= committer date), normalized like `TruthTransition.at`. */
  at: string;
  subject: string;
  /** What the commit does: pattern names plus 'init', 'feature', 'wp', 'move', 'cleanup', 'hugeLine'. */
  kinds: string[];
  /** Indexes into `truth` of the transitions this commit made. */
  truth: number[];
}

export interface HugeLine {
  /** The status log's path at that commit. */
  path: string;
  /** Index into `commits`. */
  commit: number;
  /** Bytes of the line, newline excluded. */
  bytes: number;
}

export interface GeneratedFeature {
  /** Final name. */
  name: string;
  /** Every name it had, oldest first. */
  names: string[];
  /** 'log' once it has a status.events.jsonl (born with one or backfilled). */
  era: 'frontmatter' | 'log';
  /** Still in legacy lane folders at the end. */
  legacy: boolean;
  /** Lane set its moves used last. */
  lanes: 4 | 9;
  wps: string[];
  /** Lines in its final status log (0 without one). */
  logLines: number;
}

export interface GeneratedHistory {
  commits: GeneratedCommit[];
  truth: TruthTransition[];
  hugeLines: HugeLine[];
  features: GeneratedFeature[];
}

/** Creates `dir` afresh (removing what was there) as a git repository with the generated history on `main`, checked out. */
export declare function generateHistory(dir: string, options?: HistoryOptions): GeneratedHistory;

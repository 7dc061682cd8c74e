import { closest } from 'fastest-levenshtein';
/**
 * The 4-lane vocabulary and the 9-lane one of the status model, plus `genesis`, the pseudo-lane a
 * WP comes from before it exists. Lanes pass through as written; `laneIdentity` only decides
 * whether two names are one lane.
 */
export const GENESIS = 'genesis';
const FOUR_LANES = ['planned', 'doing', 'for_review', 'done'] as const;
const NINE_LANES = ['planned', 'claimed', 'in_progress', 'for_review', 'in_review', 'approved', 'done', 'blocked', 'canceled'] as const;

const KNOWN = new Set<string>([GENESIS, ...FOUR_LANES, ...NINE_LANES]);

/** Names of one lane in the two vocabularies: renaming `doing` to `in_progress` is not a move. */
const SAME_LANE: Readonly<Record<string, string>> = { doing: 'in_progress' };

export function isKnownLane(lane: string): boolean {
  return KNOWN.has(lane);
}

/** Lanes a work package can be moved to (everything but `genesis`). */
export function knownLanes(): string[] {
  return [...KNOWN].filter((lane) => lane !== GENESIS);
}

/** The lane a name stands for, for comparisons only. */
export function laneIdentity(lane: string): string {
  return SAME_LANE[lane] ?? lane;
}

export function sameLane(a: string | null, b: string | null): boolean {
  return a === b || (a !== null && b !== null && laneIdentity(a) === laneIdentity(b));
}

/** A status line's `from_lane`: `genesis` (or none) means the WP is being created. */
export function creationFrom(lane: string | null): string | null {
  return lane === null || lane === GENESIS ? null : lane;
}

/** A lane as a person types it (`Done`, `for-review`, `In Progress`), or null when it is none. */
export function laneFromInput(input: string): string | null {
  const lane = input
    .trim()
    .toLowerCase()
    .replace(/[-\s]+/g, '_');
  return knownLanes().includes(lane) ? lane : null;
}

/** The known lane closest to what was typed, by edit distance. */
export function closestLane(input: string): string {
  return closest(
    input
      .trim()
      .toLowerCase()
      .replace(/[-\s]+/g, '_'),
    knownLanes(),
  );
}

const NINE_ONLY = new Set<string>(NINE_LANES.filter((lane) => !(FOUR_LANES as readonly string[]).includes(lane)));

/**
 * The lanes a board shows, in order: the whole vocabulary the given lanes are written in (the
 * 9-lane one as soon as one lane is only in it), empty lanes included, then any unknown lane.
 */
export function boardLanes(lanes: Iterable<string>): string[] {
  const seen = [...new Set(lanes)];
  const vocabulary: readonly string[] = seen.some((lane) => NINE_ONLY.has(lane)) ? NINE_LANES : FOUR_LANES;
  return [...vocabulary, ...seen.filter((lane) => !vocabulary.some((known) => sameLane(known, lane)))];
}

/** The column of `boardLanes` a lane goes in: its own, or its name in the vocabulary shown (`doing` under `in_progress`). */
export function boardColumn(columns: readonly string[], lane: string): string {
  return columns.includes(lane) ? lane : (columns.find((column) => sameLane(column, lane)) ?? lane);
}

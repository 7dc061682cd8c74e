/** The 4-lane vocabulary and the 7/9-lane one (architecture.md). Lanes pass through as written. */
export const FOUR_LANES = ['planned', 'doing', 'for_review', 'done'] as const;
export const NINE_LANES = [
  'planned', 'claimed', 'in_progress', 'for_review', 'in_review', 'approved', 'done', 'blocked', 'canceled',
] as const;

const KNOWN = new Set<string>([...FOUR_LANES, ...NINE_LANES]);

export function isKnownLane(lane: string): boolean {
  return KNOWN.has(lane);
}

export function knownLanes(): string[] {
  return [...KNOWN];
}

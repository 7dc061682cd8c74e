// Types for flow.js (plain JavaScript served as is to the dashboard), for the TypeScript tests.

export interface FlowEvent {
  event_id: string;
  event_type?: string;
  timestamp: string;
  lamport_clock: number;
  node_id: string;
  payload: { wp_id: string; feature_slug: string; from_lane: string | null; to_lane: string; actor?: string; title?: string };
}

export interface FlowPoint {
  at: number;
  timestamp: string;
  counts: Record<string, number>;
  total: number;
}

export interface WpTimes {
  wp_id: string;
  title: string | null;
  lane: string;
  created: boolean;
  start: number;
  end: number;
  open: boolean;
  lanes: Record<string, number>;
  lead: number | null;
  cycle: number | null;
}

export interface FeatureMove {
  key: string;
  at: number;
  lamport_clock: number;
  node_id: string;
  event_id: string;
  wp_id: string;
  lane: string;
  created: boolean;
  title: string | undefined;
}

export const LANE_ORDER: readonly string[];
export function laneKey(lane: string): string;
export function boardColumns(lanes: readonly string[]): (lane: string) => string;
export function laneLabel(key: string): string;
export function orderLanes(keys: Iterable<string>): string[];
export function featureMoves(events: readonly FlowEvent[], feature: string): FeatureMove[];
export function cumulativeFlow(events: readonly FlowEvent[], feature: string): { lanes: string[]; points: FlowPoint[] };
export function timeInLanes(events: readonly FlowEvent[], feature: string, now: number): { lanes: string[]; wps: WpTimes[] };
export function formatDuration(ms: number): string;

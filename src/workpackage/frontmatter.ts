import { YAMLParseError, parse } from 'yaml';
import { ErrorCode, KittyError } from '../errors/index.js';
import { fastFields } from './fast-fields.js';
import { normalizeTime } from './time.js';

export interface HistoryEntry {
  /** As written, for the transition key; `at` is its normalized form. */
  timestamp: string;
  at: string | null;
  lane: string;
  agent: string | null;
  action: string | null;
}

export interface WorkPackageState {
  lane: string | null;
  history: HistoryEntry[];
  title: string | null;
}

export interface Frontmatter {
  text: string;
  /** 1-based line of the first frontmatter line in the file, for error positions. */
  firstLine: number;
  /** Offset where the frontmatter text starts and ends in the file (for byte-exact edits). */
  start: number;
  end: number;
}

const OPEN = /^\uFEFF?---[ \t]*\r?\n/;
const CLOSE = /^(?:---|\.\.\.)[ \t]*\r?$/m;

/** Pure: locates the YAML frontmatter of a markdown file, or null when it has none. */
export function findFrontmatter(text: string): Frontmatter | null {
  const open = OPEN.exec(text);
  if (!open) return null;
  const start = open[0].length;
  const rest = text.slice(start);
  const close = CLOSE.exec(rest);
  if (!close) return null;
  return { text: rest.slice(0, close.index), firstLine: 2, start, end: start + close.index };
}

function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.trim() || null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

function historyEntries(value: unknown): HistoryEntry[] {
  if (!Array.isArray(value)) return [];
  const entries: HistoryEntry[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    const lane = asText(record.lane);
    const timestamp = asText(record.timestamp ?? record.at);
    if (!lane || !timestamp) continue;
    entries.push({
      timestamp,
      at: normalizeTime(timestamp),
      lane,
      agent: asText(record.agent ?? record.actor),
      action: asText(record.action ?? record.note),
    });
  }
  return entries;
}

/**
 * Pure: the lane, history and title of a work-package file. Throws KITTY_ERR_WP_MALFORMED naming
 * `label` and the line when the frontmatter is not YAML.
 */
export function parseWorkPackage(text: string, label: string): WorkPackageState {
  const frontmatter = findFrontmatter(text);
  if (!frontmatter) return { lane: null, history: [], title: null };
  const fast = fastFields(frontmatter.text);
  if (fast) return { lane: asText(fast.lane), history: historyEntries(fast.history), title: asText(fast.title) };
  let data: unknown;
  try {
    data = parse(frontmatter.text, { prettyErrors: false, uniqueKeys: false });
  } catch (cause) {
    const line = cause instanceof YAMLParseError && cause.linePos ? cause.linePos[0].line + frontmatter.firstLine - 1 : frontmatter.firstLine;
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new KittyError(ErrorCode.WP_MALFORMED, `malformed YAML frontmatter in ${label}:${line}: ${reason}`, {
      cause,
      hint: `fix the frontmatter of ${label} (between the two --- lines), then rerun the command`,
    });
  }
  if (typeof data !== 'object' || data === null) return { lane: null, history: [], title: null };
  const record = data as Record<string, unknown>;
  return {
    lane: asText(record.lane),
    history: historyEntries(record.history),
    title: asText(record.title),
  };
}

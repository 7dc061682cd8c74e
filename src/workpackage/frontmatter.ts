import { ErrorCode, KittyError } from '../errors/index.js';
import { yaml } from '../yaml/lazy.js';
import { fastFields, sequenceBase } from './fast-fields.js';
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

interface Frontmatter {
  text: string;
  /** 1-based line of the first frontmatter line in the file, for error positions. */
  firstLine: number;
  /** Offset where the frontmatter text starts and ends in the file (for byte-exact edits). */
  start: number;
  end: number;
}

const OPEN = /^\uFEFF?---[ \t]*\r?\n/;
const CLOSE_LINE = /^(?:---|\.\.\.)[ \t]*\r?$/;

/** Where the closing `---` (or `...`) line starts, looking only at line starts (bodies can be long). */
function closingLine(text: string, from: number): number {
  for (let at = from; at >= 0 && at < text.length; ) {
    const end = text.indexOf('\n', at);
    if (CLOSE_LINE.test(text.slice(at, end < 0 ? text.length : end))) return at;
    const dashes = text.indexOf('\n---', at);
    const dots = text.indexOf('\n...', at);
    const next = dashes < 0 ? dots : dots < 0 ? dashes : Math.min(dashes, dots);
    at = next < 0 ? -1 : next + 1;
  }
  return -1;
}

/** Pure: locates the YAML frontmatter of a markdown file, or null when it has none. */
export function findFrontmatter(text: string): Frontmatter | null {
  const open = OPEN.exec(text);
  if (!open) return null;
  const start = open[0].length;
  const close = closingLine(text, start);
  if (close < 0) return null;
  return { text: text.slice(start, close), firstLine: 2, start, end: close };
}

function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.trim() || null;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** Parsed items are shared between versions of a file (see fast-fields), so are their entries. */
const entries = new WeakMap<object, HistoryEntry | null>();

function historyEntry(item: unknown): HistoryEntry | null {
  if (typeof item !== 'object' || item === null) return null;
  let entry = entries.get(item);
  if (entry === undefined) {
    const record = item as Record<string, unknown>;
    const lane = asText(record.lane);
    const timestamp = asText(record.timestamp ?? record.at);
    entry =
      lane && timestamp
        ? { timestamp, at: normalizeTime(timestamp), lane, agent: asText(record.agent ?? record.actor), action: asText(record.action ?? record.note) }
        : null;
    entries.set(item, entry);
  }
  return entry;
}

/** Entries of a history read before: a version that extends it maps only its new items. */
const mapped = new WeakMap<unknown[], HistoryEntry[]>();

function historyEntries(value: unknown): HistoryEntry[] {
  if (!Array.isArray(value)) return [];
  let result = mapped.get(value);
  if (result) return result;
  const base = sequenceBase(value);
  const baseEntries = base && mapped.get(base);
  result = baseEntries ? baseEntries.slice() : [];
  for (const item of baseEntries ? value.slice(base!.length) : value) {
    const entry = historyEntry(item);
    if (entry) result.push(entry);
  }
  mapped.set(value, result);
  return result;
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
  const { parse, YAMLParseError } = yaml();
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

import { LRUCache } from 'lru-cache';
import { yaml } from '../yaml/lazy.js';
import { quotedScalar } from '../yaml/simple-map.js';

const KEY_LINE = /^([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]|$)/;
const BARE_KEY = /^[A-Za-z_][\w.-]*[ \t]*:[ \t]*(?:#.*)?$/;
const WANTED = new Set(['lane', 'title', 'history']);
const CACHE_LIMIT = 20_000;

const pieces = new Map<string, unknown>();

const SIMPLE_LINE = /^([A-Za-z_][\w.-]*):(?:[ \t]+(.*?))?[ \t]*$/;
/** Plain scalars the core schema could read as something other than a string (null, bool, number, …). */
const NOT_A_PLAIN_STRING = /^(?:[-?:,[\]{}#&*!|>'"%@`~]|[+.\d]|(?:null|true|false)$)|: |:$|\s#|\t/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}[Tt ][\d:.]+(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

const DECIMAL = /^-?(?:0|[1-9]\d{0,14})$/;

function simpleScalar(text: string | undefined): { value: string | number | null } | null {
  if (text === undefined || text === '') return { value: null };
  if (DECIMAL.test(text)) return { value: Number(text) };
  const quoted = quotedScalar(text);
  if (quoted !== undefined) return { value: quoted };
  if (ISO_TIME.test(text) || !NOT_A_PLAIN_STRING.test(text)) return { value: text };
  return null;
}

/**
 * The common shape, read without the YAML parser (which costs ~0.1 ms a piece, per commit): a
 * `key: value` line, or a sequence item of such lines, every value a quoted string or a plain
 * scalar that can only be a string. Anything else returns undefined and goes to the parser.
 */
function simplePiece(text: string): unknown {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const first = /^( *)- /.exec(lines[0] ?? '');
  // an item's keys all sit at the column after "- "; a top-level piece is one line
  const column = first ? first[0].length : 0;
  if (!first && lines.length !== 1) return undefined;
  const record: Record<string, string | number | null> = {};
  for (const [index, line] of lines.entries()) {
    const body = index === 0 ? line.slice(column) : line;
    if (index > 0 && body.length - body.trimStart().length !== column) return undefined;
    const match = SIMPLE_LINE.exec(body.trimStart());
    const key = match?.[1];
    if (!key || key === '__proto__' || Object.hasOwn(record, key)) return undefined;
    const scalar = simpleScalar(match[2]);
    if (!scalar) return undefined;
    record[key] = scalar.value;
  }
  return first ? [record] : record;
}

/** Parses a small YAML piece once: history entries and lane lines repeat across a WP's versions. */
function parsePiece(sliced: string): unknown {
  if (pieces.has(sliced)) return pieces.get(sliced);
  // a piece is sliced out of a whole file: kept as a key, or as the source of the values parsed
  // from it (slices again), it would keep that file's text alive as long as the cache holds it
  const text = Buffer.from(sliced).toString();
  const simple = text.includes('\r') ? undefined : simplePiece(text);
  const value: unknown = simple !== undefined ? simple : yaml().parse(text, { prettyErrors: false, uniqueKeys: false });
  pieces.set(text, value);
  if (pieces.size > CACHE_LIMIT) pieces.delete(pieces.keys().next().value!);
  return value;
}

/** Lines that start at column 0 (a top-level key, or a comment): found by their first character. */
const TOP_LINE = /(?:^|\n)([^ \n][^\n]*)/g;
const BLANK_OR_COMMENT = /^(?:#.*|[ ]*)$/;

/**
 * Top-level key blocks of block-style YAML, or null when a line falls outside that simple shape.
 * Sliced out of the text by native regex scans: a WP file with a long history holds thousands of
 * lines, and every version of it is read.
 */
function topLevelBlocks(input: string): Map<string, string> | null {
  const text = input.includes('\r') ? input.replace(/\r\n/g, '\n') : input;
  const blocks = new Map<string, string>();
  let key: string | null = null;
  let start = 0;
  const flush = (end: number): void => {
    if (key === null || !WANTED.has(key)) return;
    const block = text.slice(start, end);
    blocks.set(key, block.includes('\n#') ? block.replace(/^#.*\n?/gm, '') : block);
  };
  for (const match of text.matchAll(TOP_LINE)) {
    const line = match[1]!;
    if (line[0] === '#') continue;
    const keyLine = KEY_LINE.exec(line);
    if (!keyLine) return null;
    const at = match.index + match[0].length - line.length;
    if (
      key === null &&
      !text
        .slice(0, at)
        .split('\n')
        .every((text) => BLANK_OR_COMMENT.test(text))
    )
      return null;
    flush(at);
    key = keyLine[1]!;
    start = at;
  }
  if (key === null && text.trim() !== '' && !text.split('\n').every((line) => BLANK_OR_COMMENT.test(line))) return null;
  flush(text.length);
  return blocks;
}

const shapes = new Map<string, { outside: RegExp; item: RegExp }>();

/** For items indented by `indent`: a line outside the shape, and the start of an item. */
function itemShape(indent: string): { outside: RegExp; item: RegExp } {
  let shape = shapes.get(indent);
  if (!shape) {
    shape = {
      outside: new RegExp(`^(?!${indent}-(?:[ \\t]|$)|${indent} |[ \\t]*(?:#|$))`, 'm'),
      item: new RegExp(`^${indent}-(?:[ \\t]|$)`, 'gm'),
    };
    shapes.set(indent, shape);
  }
  return shape;
}

/** The items of a block sequence under `key:`, each as its own YAML text; null for any other shape. */
function sequenceItems(block: string): { items: string[]; indent: string } | null {
  const newline = block.indexOf('\n');
  if (!BARE_KEY.test(newline < 0 ? block : block.slice(0, newline))) return null;
  const body = newline < 0 ? '' : block.slice(newline + 1);
  const first = /^( +)-(?:[ \t]|$)/m.exec(body);
  if (!first) return body.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('#')) ? { items: [], indent: '' } : null;
  const before = body.slice(0, first.index);
  if (!before.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('#'))) return null;
  const items = itemsAt(body.slice(first.index), first[1]!);
  return items && { items, indent: first[1]! };
}

/** Text that starts with an item at `indent`, split into items; null when a line is outside the shape. */
function itemsAt(text: string, indent: string): string[] | null {
  const shape = itemShape(indent);
  if (shape.outside.test(text)) return null;
  const starts = [...text.matchAll(shape.item)].map((match) => match.index);
  if (starts[0] !== 0) return null;
  return starts.map((at, i) => text.slice(at, starts[i + 1] ?? text.length));
}

function itemValues(items: readonly string[]): unknown[] {
  return items.map((item) => {
    const parsed = parsePiece(item);
    return Array.isArray(parsed) ? parsed[0] : undefined;
  });
}

interface ParsedSequence {
  block: string;
  indent: string;
  values: unknown[];
}

/** Below this a history is cheap to read whole. */
const INCREMENTAL_FROM = 4096;
/** The start of a history block: the same for every version of one WP's file. */
const SEQUENCE_KEY = 256;
const sequences = new LRUCache<string, ParsedSequence[]>({
  maxSize: 32 * 1024 * 1024,
  sizeCalculation: (list) =>
    Math.max(
      1,
      list.reduce((sum, parsed) => sum + parsed.block.length, 0),
    ),
});

/**
 * The values of a history sequence. A WP's next version usually keeps its history and appends an
 * entry: when the block extends one read before, only the appended items are read, so a history
 * of hundreds of entries costs per version what the version added, not the whole list again.
 */
function sequenceValues(block: string): unknown[] | null {
  if (block.length < INCREMENTAL_FROM) {
    const whole = sequenceItems(block);
    return whole && itemValues(whole.items);
  }
  const key = block.slice(0, SEQUENCE_KEY);
  const known = sequences.get(key) ?? [];
  for (const earlier of known) {
    if (block.length < earlier.block.length || !block.startsWith(earlier.block)) continue;
    if (block.length === earlier.block.length) return earlier.values;
    const rest = block.slice(earlier.block.length);
    const added = itemsAt(rest, earlier.indent);
    if (added) {
      const values = earlier.values.concat(itemValues(added));
      bases.set(values, earlier.values);
      return remember(key, known, { ...earlier, block, values });
    }
  }
  const whole = sequenceItems(block);
  if (!whole) return null;
  return remember(key, known, { block, indent: whole.indent, values: itemValues(whole.items) });
}

/** A sequence's values → the earlier values they extend (so derived data can be extended too). */
const bases = new WeakMap<unknown[], unknown[]>();

/** The values `values` extends (its first items are exactly those), when it was read as an extension. */
export function sequenceBase(values: unknown[]): unknown[] | undefined {
  return bases.get(values);
}

function remember(key: string, known: readonly ParsedSequence[], parsed: ParsedSequence): unknown[] {
  // the block keeps its file's text alive, but a long history is most of that text
  sequences.set(key, [parsed, ...known.filter((earlier) => earlier.block !== parsed.block)].slice(0, 2));
  return parsed.values;
}

function field(block: string | undefined, key: string): unknown {
  if (block === undefined) return undefined;
  const value = parsePiece(block);
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/**
 * The `lane`, `title` and `history` of block-style frontmatter without composing the whole
 * document, reusing pieces already parsed in other versions of the file. Returns null whenever
 * the text is outside the shape this handles or a piece does not parse; the caller then parses
 * the whole frontmatter, which also produces the precise error.
 */
export function fastFields(frontmatter: string): { lane: unknown; title: unknown; history: unknown } | null {
  const blocks = topLevelBlocks(frontmatter);
  if (!blocks) return null;
  try {
    const historyBlock = blocks.get('history');
    let history: unknown;
    if (historyBlock !== undefined) {
      const values = sequenceValues(historyBlock);
      history = values?.length ? values : field(historyBlock, 'history');
    }
    return { lane: field(blocks.get('lane'), 'lane'), title: field(blocks.get('title'), 'title'), history };
  } catch {
    return null;
  }
}

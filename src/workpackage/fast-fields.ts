import { parse } from 'yaml';

const KEY_LINE = /^([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]|$)/;
const BARE_KEY = /^[A-Za-z_][\w.-]*[ \t]*:[ \t]*(?:#.*)?$/;
const ITEM_LINE = /^( +)-(?:[ \t]|$)/;
const WANTED = new Set(['lane', 'title', 'history']);
const CACHE_LIMIT = 20_000;

const pieces = new Map<string, unknown>();

const SIMPLE_LINE = /^([A-Za-z_][\w.-]*):(?:[ \t]+(.*?))?[ \t]*$/;
const DOUBLE = /^"([^"\\]*)"$/;
const SINGLE = /^'((?:[^']|'')*)'$/;
/** Plain scalars the core schema could read as something other than a string (null, bool, number, …). */
const NOT_A_PLAIN_STRING = /^(?:[-?:,[\]{}#&*!|>'"%@`~]|[+.\d]|(?:null|true|false)$)|: |:$|\s#|\t/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}[Tt ][\d:.]+(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

function simpleScalar(text: string | undefined): { value: string | null } | null {
  if (text === undefined || text === '') return { value: null };
  const double = DOUBLE.exec(text);
  if (double) return { value: double[1]! };
  const single = SINGLE.exec(text);
  if (single) return { value: single[1]!.replaceAll("''", "'") };
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
  const record: Record<string, string | null> = {};
  for (const [index, line] of lines.entries()) {
    const body = index === 0 ? line.slice(column) : line;
    if (index > 0 && (body.length - body.trimStart().length !== column)) return undefined;
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
function parsePiece(text: string): unknown {
  if (pieces.has(text)) return pieces.get(text);
  const simple = text.includes('\r') ? undefined : simplePiece(text);
  const value: unknown = simple !== undefined ? simple : parse(text, { prettyErrors: false, uniqueKeys: false });
  pieces.set(text, value);
  if (pieces.size > CACHE_LIMIT) pieces.delete(pieces.keys().next().value!);
  return value;
}

/** Top-level key blocks of block-style YAML, or null when a line falls outside that simple shape. */
function topLevelBlocks(text: string): Map<string, string> | null {
  const blocks = new Map<string, string>();
  let key: string | null = null;
  let lines: string[] = [];
  const flush = (): void => {
    if (key !== null && WANTED.has(key)) blocks.set(key, lines.join('\n'));
  };
  for (const line of text.split(/\r?\n/)) {
    const first = line[0];
    if (first === undefined || first === ' ') {
      if (key === null && line.trim() !== '') return null;
      lines.push(line);
      continue;
    }
    if (first === '#') continue;
    const match = KEY_LINE.exec(line);
    if (!match) return null;
    flush();
    key = match[1]!;
    lines = [line];
  }
  flush();
  return blocks;
}

/** The items of a block sequence under `key:`, each as its own YAML text; null for any other shape. */
function sequenceItems(block: string): string[] | null {
  const [head, ...rest] = block.split('\n');
  if (!BARE_KEY.test(head!)) return null;
  const items: string[][] = [];
  let indent: string | null = null;
  for (const line of rest) {
    const item = ITEM_LINE.exec(line);
    if (item && (indent === null || item[1] === indent)) {
      indent = item[1]!;
      items.push([line]);
      continue;
    }
    if (line.trim() === '' || line.trim().startsWith('#')) {
      items.at(-1)?.push(line);
      continue;
    }
    if (indent === null || !line.startsWith(`${indent} `)) return null;
    items.at(-1)!.push(line);
  }
  return items.map((lines) => lines.join('\n'));
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
      const items = sequenceItems(historyBlock);
      history = items?.length
        ? items.map((item) => {
            const parsed = parsePiece(item);
            return Array.isArray(parsed) ? parsed[0] : undefined;
          })
        : field(historyBlock, 'history');
    }
    return { lane: field(blocks.get('lane'), 'lane'), title: field(blocks.get('title'), 'title'), history };
  } catch {
    return null;
  }
}

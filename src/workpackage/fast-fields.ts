import { parse } from 'yaml';

const KEY_LINE = /^([A-Za-z_][\w.-]*)[ \t]*:(?:[ \t]|$)/;
const BARE_KEY = /^[A-Za-z_][\w.-]*[ \t]*:[ \t]*(?:#.*)?$/;
const ITEM_LINE = /^( +)-(?:[ \t]|$)/;
const WANTED = new Set(['lane', 'title', 'history']);
const CACHE_LIMIT = 20_000;

const pieces = new Map<string, unknown>();

/** Parses a small YAML piece once: history entries and lane lines repeat across a WP's versions. */
function parsePiece(text: string): unknown {
  if (pieces.has(text)) return pieces.get(text);
  const value: unknown = parse(text, { prettyErrors: false, uniqueKeys: false });
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

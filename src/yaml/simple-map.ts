/** A scalar as the YAML core schema reads it, limited to what this reader decides alone. */
type Scalar = string | boolean | null;

export type SimpleMap = Record<string, Scalar | Record<string, Scalar>>;

// a `#` starts a comment only after whitespace: `key:#x` is one plain scalar, not a key
const SECTION = /^([A-Za-z_][\w-]*):(?:[ \t]+(?:#.*)?)?$/;
const ENTRY = /^([A-Za-z_][\w-]*):[ \t]+(\S.*)$/;
const CHILD = /^( +)([A-Za-z_][\w-]*):(?:[ \t]+(.*))?$/;
const SKIP = /^[ \t]*(?:#.*)?$/;

const DOUBLE = /^"([^"\\]*)"(?:[ \t]+#.*)?$/;
const SINGLE = /^'((?:[^']|'')*)'(?:[ \t]+#.*)?$/;
/** No whitespace, quote, `#` or flow character, and no leading indicator: a plain scalar read as-is. */
const PLAIN = /^([A-Za-z0-9_./+][^\s#'"[\]{},]*)(?:[ \t]+#.*)?$/;
const NULL = /^(?:null|Null|NULL)$/;
const TRUE = /^(?:true|True|TRUE)$/;
const FALSE = /^(?:false|False|FALSE)$/;
/** What the core schema reads as a number: left to the YAML library. */
const NUMBER = /^(?:[-+]?\d+|0o[0-7]+|0x[\da-fA-F]+|[-+]?(?:\.\d+|\d+(?:\.\d*)?)(?:[eE][-+]?\d+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** A key that reads as the string it is (not null or a boolean), and is safe as an object key. */
function plainKey(key: string): boolean {
  return key !== '__proto__' && !NULL.test(key) && !TRUE.test(key) && !FALSE.test(key);
}

/** Pure: a double-quoted scalar without escapes or a single-quoted one, a comment after it allowed; undefined for anything else. */
export function quotedScalar(value: string): string | undefined {
  const double = DOUBLE.exec(value);
  if (double) return double[1]!;
  const single = SINGLE.exec(value);
  return single ? single[1]!.replaceAll("''", "'") : undefined;
}

/** undefined: outside this reader's shape. */
function scalar(text: string | undefined): Scalar | undefined {
  // YAML strips spaces and tabs only: other whitespace (a no-break space) stays and is left to the library
  const value = text?.replace(/^[ \t]+|[ \t]+$/g, '') ?? '';
  if (value === '' || value.startsWith('#') || /^~(?:[ \t]+#.*)?$/.test(value)) return null;
  const quoted = quotedScalar(value);
  if (quoted !== undefined) return quoted;
  const plain = PLAIN.exec(value)?.[1];
  if (plain === undefined || plain.endsWith(':') || NUMBER.test(plain)) return undefined;
  if (NULL.test(plain)) return null;
  if (TRUE.test(plain)) return true;
  if (FALSE.test(plain)) return false;
  return plain;
}

/**
 * Pure: YAML of the shape kitty writes its config in (top-level keys holding a scalar or a block
 * mapping of scalars; comments and blank lines anywhere), read without the YAML library, which
 * costs a short command ~40 ms to load. Returns null for anything else, however valid, for the
 * library to read: the answer is then the library's in every case.
 */
export function readSimpleMap(text: string): SimpleMap | null {
  if (text.includes('\r') || text.startsWith('\uFEFF')) return null;
  const map: SimpleMap = {};
  let section: { values: Record<string, Scalar>; indent: number } | null = null;
  for (const line of text.split('\n')) {
    if (SKIP.test(line)) continue;
    const child = CHILD.exec(line);
    if (child) {
      const [, indent, key, rest] = child;
      const value = scalar(rest);
      if (!section || value === undefined || !plainKey(key!) || Object.hasOwn(section.values, key!)) return null;
      if (section.indent === 0) section.indent = indent!.length;
      if (indent!.length !== section.indent) return null;
      section.values[key!] = value;
      continue;
    }
    const opened = SECTION.exec(line);
    const entry = opened ? null : ENTRY.exec(line);
    const key = opened?.[1] ?? entry?.[1];
    if (key === undefined || !plainKey(key) || Object.hasOwn(map, key)) return null;
    if (opened) {
      section = { values: {}, indent: 0 };
      map[key] = section.values;
      continue;
    }
    const value = scalar(entry![2]);
    if (value === undefined) return null;
    map[key] = value;
    section = null;
  }
  // a text of comments alone is no mapping at all (the library answers null)
  if (Object.keys(map).length === 0) return null;
  // a key with nothing under it is null, as the library reads it
  for (const [key, value] of Object.entries(map)) if (value !== null && typeof value === 'object' && Object.keys(value).length === 0) map[key] = null;
  return map;
}

/** The value at `path` (undefined when there is none), as the YAML library's `getIn` gives a scalar. */
export function simpleGet(map: SimpleMap, path: readonly string[]): unknown {
  let value: unknown = map;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

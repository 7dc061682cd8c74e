const normalized = new Map<string, string | null>();
const CACHE_LIMIT = 50_000;

/** ISO 8601 UTC with a `Z`, dropping a zero millisecond part; null when the value is not a time. */
export function normalizeTime(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') return toIso(value);
  // the same timestamps are read again in every later version of a WP file
  let result = normalized.get(value);
  if (result === undefined) {
    result = toIso(value);
    if (normalized.size >= CACHE_LIMIT) normalized.clear();
    normalized.set(value, result);
  }
  return result;
}

function toIso(value: unknown): string | null {
  const date = value instanceof Date ? value : new Date(String(value));
  const ms = date.getTime();
  if (Number.isNaN(ms)) return null;
  return date.toISOString().replace('.000Z', 'Z');
}

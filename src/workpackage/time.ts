/** ISO 8601 UTC with a `Z`, dropping a zero millisecond part; null when the value is not a time. */
export function normalizeTime(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  const date = value instanceof Date ? value : new Date(String(value));
  const ms = date.getTime();
  if (Number.isNaN(ms)) return null;
  return date.toISOString().replace('.000Z', 'Z');
}

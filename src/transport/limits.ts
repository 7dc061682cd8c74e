import type { Envelope } from '../events/envelope.js';

/**
 * The sync server's limits, enforced before anything is sent: one event the server would
 * refuse must never be built into a frame or a batch, where it would cost the whole send.
 */
export const MAX_ENVELOPE_BYTES = 64 * 1024;
export const MAX_FRAME_EVENTS = 100;
export const MAX_FRAME_BYTES = 1024 * 1024;
export const MAX_BATCH_EVENTS = 1000;
/**
 * Uncompressed JSON of one batch body. The server caps bodies (compressed and inflated); a client
 * budget of 1 MiB stays under any cap it sets for 1000 ordinary events (a few hundred bytes each)
 * while a batch of large events is split instead of refused whole.
 */
export const MAX_BATCH_BYTES = 1024 * 1024;

/** Bytes of `value` as the JSON that goes on the wire. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** The field that makes an oversized envelope large, named as a path (`payload.title`), for the reason shown. */
function largestField(envelope: Envelope): string {
  let best = { path: 'envelope', bytes: 0 };
  const visit = (value: unknown, path: string): void => {
    if (value === null || typeof value !== 'object') {
      const bytes = jsonBytes(value ?? null);
      if (bytes > best.bytes) best = { path, bytes };
      return;
    }
    for (const [key, child] of Object.entries(value)) visit(child, path ? `${path}.${key}` : key);
  };
  visit(envelope, '');
  return best.path;
}

/** Why an envelope may not be sent (null when it may): kept with the event as it stays dead locally. */
export function oversizeReason(envelope: Envelope, bytes = jsonBytes(envelope)): string | null {
  if (bytes <= MAX_ENVELOPE_BYTES) return null;
  return `envelope is ${bytes} bytes as JSON (mostly ${largestField(envelope)}), over the ${MAX_ENVELOPE_BYTES}-byte limit of one event; kept here, never sent`;
}

/**
 * How many items, of the given JSON sizes, fit one send of at most `maxItems` and `maxBytes` bytes,
 * counting `overhead` for the wrapper and a comma between items. Always at least one, so an item
 * over the budget alone is still sent (the server answers for it) and a drain moves on.
 */
export function fitting(sizes: readonly number[], limits: { maxItems: number; maxBytes: number; overhead: number }): number {
  let bytes = limits.overhead;
  let count = 0;
  for (const size of sizes) {
    if (count >= limits.maxItems) break;
    bytes += size + (count > 0 ? 1 : 0);
    if (count > 0 && bytes > limits.maxBytes) break;
    count++;
  }
  return count;
}

import { createHash, randomUUID } from 'node:crypto';

export function newProjectUuid(): string {
  return randomUUID();
}

/**
 * A v4-shaped uuid derived from a stable fact of the repository (its root commit), so every process
 * of a read-only checkout agrees on it without writing anything.
 */
export function deterministicUuid(seed: string): string {
  const bytes = createHash('sha256').update(`kitty-project:${seed}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

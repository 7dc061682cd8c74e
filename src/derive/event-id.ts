import { createHash } from 'node:crypto';
import { encodeTime, isValid } from 'ulid';

/** Crockford's base32, the ULID alphabet. */
const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_CHARS = 16;

/**
 * Deterministic ULID: the time part is the transition time and the 80 "random" bits come from
 * sha256(project_uuid + key), so one transition seen twice, on one machine or two, gets one id.
 * The random part is what `ulid(time, prng)` gives for a prng returning the hash's bytes in turn
 * (5 bits each, the first byte's character last): the ids of earlier releases, without a call
 * per character.
 */
export function transitionEventId(projectUuid: string, key: string, atMs: number): string {
  const digest = createHash('sha256')
    .update(projectUuid + key)
    .digest();
  // a pre-1970 or unparseable time is pinned to the epoch's first ms (ulid() reads 0 as "now")
  let id = encodeTime(Number.isFinite(atMs) && atMs >= 1 ? Math.floor(atMs) : 1);
  for (let index = RANDOM_CHARS - 1; index >= 0; index--) id += BASE32[digest[index]! & 31];
  return id;
}

/** A status line's own id is the event's id when it is a canonical ULID (upper case, in range). */
function isCanonicalUlid(id: string | null | undefined): id is string {
  return typeof id === 'string' && id.length === 26 && id === id.toUpperCase() && id[0]! <= '7' && isValid(id);
}

/** The envelope's event_id of a transition: the status line's ULID, else derived from its key. */
export function eventIdOf(transition: { key: string; at: string; lineEventId?: string | null }, projectUuid: string | null): string {
  if (isCanonicalUlid(transition.lineEventId)) return transition.lineEventId;
  return transitionEventId(projectUuid ?? '', transition.key, Date.parse(transition.at));
}

import { createHash } from 'node:crypto';
import { isValid, ulid } from 'ulid';

/**
 * Deterministic ULID: the time part is the transition time and the 80 "random" bits come from
 * sha256(project_uuid + key), so one transition seen twice, on one machine or two, gets one id.
 * ulid() draws one base32 character per PRNG call; each call returns the next 5 bits of the hash.
 */
export function transitionEventId(projectUuid: string, key: string, atMs: number): string {
  const digest = createHash('sha256')
    .update(projectUuid + key)
    .digest();
  let index = 0;
  const prng = (): number => (digest[index++ % digest.length]! & 31) / 32;
  // ulid() treats 0 as "now"; a pre-1970 or unparseable time is pinned to the epoch's first ms.
  const time = Number.isFinite(atMs) && atMs >= 1 ? Math.floor(atMs) : 1;
  return ulid(time, prng);
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

import { LOCAL_TEAM_SLUG } from '../constants.js';
import type { Limits } from './limits.js';
import type { Accepted, EventResult, Store, StoredEvent, User } from './store/types.js';
import { validatedJson } from './validate.js';

function eventIdOf(event: unknown): string {
  const id = (event as { event_id?: unknown } | null)?.event_id;
  return typeof id === 'string' && id.length <= 64 ? id : '';
}

/**
 * Validates and stores events for a user: one result per event, in order; a bad event is rejected
 * alone. Events captured while logged out (`team_slug: "local"`) belong to the caller's team.
 * A lamport_clock more than `lamportLead` past the team's clock is refused: stored, it would become
 * the clock every client of the team adopts, and one value near 2^53 made all their later events
 * unsendable. The clock returned is the team's after the store: the one the answer tells the client.
 */
export async function ingestEvents(
  store: Store,
  user: User,
  events: readonly unknown[],
  limits: Limits,
  now = Date.now(),
): Promise<{ results: EventResult[]; clock: number }> {
  return (await ingestBatches(store, user, [events], limits, now))[0]!;
}

/**
 * ingestEvents for several sends in a row (the frames a WebSocket has waiting): validated in order,
 * as if one came after the other, and stored in one call (one transaction, one commit), so either
 * all of them are stored or none is. Each gets its own results and the team clock after it.
 */
export async function ingestBatches(
  store: Store,
  user: User,
  batches: readonly (readonly unknown[])[],
  limits: Limits,
  now = Date.now(),
): Promise<{ results: EventResult[]; clock: number }[]> {
  const answers: { results: (EventResult | null)[]; clock: number }[] = [];
  const accepted: (Accepted & { answer: number; index: number })[] = [];
  let clock = await store.teamClock(user.teamSlug);
  for (const events of batches) {
    const results: (EventResult | null)[] = [];
    for (const [index, event] of events.entries()) {
      const id = eventIdOf(event);
      const json = validatedJson(event, limits, now);
      if (typeof json !== 'string') {
        results.push({ event_id: id, status: 'rejected', error: json.message, code: json.code });
        continue;
      }
      const envelope = event as StoredEvent;
      if (envelope.team_slug !== user.teamSlug && envelope.team_slug !== LOCAL_TEAM_SLUG) {
        results.push({
          event_id: id,
          status: 'rejected',
          code: 'wrong_team',
          error: `team_slug "${envelope.team_slug}" is not your team "${user.teamSlug}"`,
        });
        continue;
      }
      if (envelope.lamport_clock > clock + limits.lamportLead) {
        results.push({
          event_id: id,
          status: 'rejected',
          code: 'lamport_too_far_ahead',
          error: `lamport_clock ${envelope.lamport_clock} is more than ${limits.lamportLead} past team ${user.teamSlug}'s clock ${clock} (at most ${clock + limits.lamportLead} is accepted); this machine's Lamport clock is corrupt: restart it from the server_clock`,
        });
        continue;
      }
      clock = Math.max(clock, envelope.lamport_clock);
      // the client names its team already (it replaces "local" before sending): its JSON is stored as it came
      const stored = envelope.team_slug === user.teamSlug ? envelope : { ...envelope, team_slug: user.teamSlug };
      accepted.push({ answer: answers.length, index, envelope: stored, raw: stored === envelope ? json : JSON.stringify(stored) });
      results.push(null);
    }
    answers.push({ results, clock });
  }
  const stored = accepted.length > 0 ? await store.ingest(user.teamSlug, accepted) : [];
  accepted.forEach((item, i) => {
    answers[item.answer]!.results[item.index] = stored[i]!;
  });
  return answers as { results: EventResult[]; clock: number }[];
}

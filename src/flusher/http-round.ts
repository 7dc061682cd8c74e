import { UNAUTHORIZED, withAccessToken } from '../transport/authorized.js';
import { sendBatch } from '../transport/http-batch.js';
import { MAX_BATCH_EVENTS } from '../transport/limits.js';
import { type EventResult, TransportError } from '../transport/types.js';
import type { Delivery, Prepared } from './delivery.js';

/** Sends pending events as gzip batches over HTTP until none is left (or the deadline). */
export async function deliverOverHttp(delivery: Delivery): Promise<'drained' | 'timeout'> {
  delivery.summary.transport = 'http';
  let cursor = 0;
  for (;;) {
    if (delivery.pastDeadline()) return 'timeout';
    const { events } = delivery.queue.nextPending(MAX_BATCH_EVENTS, cursor);
    if (events.length === 0) {
      if (!(await delivery.waitForMore(cursor))) return 'drained';
      continue;
    }
    // prepared once: a retry after a token refresh sends the same batch (the team cannot change)
    let prepared: Prepared | null | undefined;
    const results = await withAccessToken(delivery.options.env, delivery.timedOut, async ({ token, credentials }) => {
      prepared ??= delivery.prepare(events, credentials.team_slug, cursor);
      return prepared && send(delivery, credentials.server_url, token, prepared);
    });
    // the events were restamped: read them again
    if (!prepared || !results) continue;
    delivery.failures = 0;
    const answered = new Set(results.map((result) => result.event_id));
    delivery.summary.unanswered += prepared.ready.filter((item) => !answered.has(item.envelope.event_id)).length;
    cursor = prepared.lastSeq;
    delivery.apply(results, null);
  }
}

/** One batch; results of the requests that succeeded before a failure are applied, not sent again. */
async function send(delivery: Delivery, serverUrl: string, token: string, prepared: Prepared): Promise<EventResult[] | typeof UNAUTHORIZED> {
  const batch = prepared.ready.map((item) => item.envelope);
  if (batch.length === 0) return [];
  try {
    return await sendBatch(serverUrl, token, batch, delivery.timedOut, delivery.batchLimits);
  } catch (error) {
    if (!(error instanceof TransportError)) throw error;
    if (error.partial.length > 0) delivery.apply(error.partial, null);
    if (error.kind === 'unauthorized') return UNAUTHORIZED;
    throw error;
  }
}

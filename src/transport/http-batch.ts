import { gzipSync } from 'node:zlib';
import { retryAfterSeconds } from '../auth/session.js';
import type { Envelope } from '../events/envelope.js';
import { fitting, jsonBytes, MAX_BATCH_BYTES, MAX_BATCH_EVENTS } from './limits.js';
import { type EventResult, TransportError } from './types.js';

/** `{"events":[]}`: the bytes of a body besides its events and their commas. */
const BODY_OVERHEAD_BYTES = Buffer.byteLength(JSON.stringify({ events: [] }));

/** What one drain learned of the server's batch limit: later batches are built to fit it. */
export interface BatchLimits {
  maxEvents: number;
}

async function errorBody(response: Response): Promise<{ code: string | null; error: string | null }> {
  try {
    const body = (await response.json()) as { code?: unknown; error?: unknown };
    return { code: typeof body?.code === 'string' ? body.code : null, error: typeof body?.error === 'string' ? body.error : null };
  } catch {
    return { code: null, error: null };
  }
}

/** The server's per-batch event limit from its refusal ("at most N events per batch"), else null. */
function statedLimit(message: string | null): number | null {
  const match = /at most (\d+) events/.exec(message ?? '');
  return match ? Number(match[1]) : null;
}

const MAX_RETRY_AFTER_MS = 5 * 60_000;

class TooManyEvents extends Error {
  constructor(readonly limit: number | null) {
    super('too many events in one batch');
  }
}

async function post(serverUrl: string, token: string, events: readonly Envelope[], signal?: AbortSignal): Promise<EventResult[]> {
  let response: Response;
  try {
    response = await fetch(`${serverUrl}/api/v1/events/batch/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${token}` },
      body: gzipSync(JSON.stringify({ events })),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(60_000)]) : AbortSignal.timeout(60_000),
    });
  } catch (cause) {
    throw new TransportError(`batch upload failed: ${(cause as { cause?: { code?: string } }).cause?.code ?? (cause as Error).message}`, 'unavailable');
  }
  if (response.ok) {
    const body = (await response.json()) as { results?: EventResult[] };
    return Array.isArray(body.results) ? body.results : [];
  }
  const { code, error } = await errorBody(response);
  const named = code ? ` ${code}` : '';
  if (response.status === 401) throw new TransportError('the server refused the access token (401)', 'unauthorized');
  // too many at once is about the batch, not an event in it: bisecting would end in a lone event marked dead
  if (response.status === 413 && code === 'batch_too_many_events') throw new TooManyEvents(statedLimit(error));
  // busy or throttled: the server read nothing of the batch, so every event in it waits for a retry
  if (response.status === 503 || response.status === 429) {
    const seconds = retryAfterSeconds(response);
    // a hostile or confused Retry-After must not park the flusher for hours
    const wait = seconds === null ? null : Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
    throw new TransportError(
      `the server is busy (HTTP ${response.status}${named}); retrying ${wait === null ? 'with backoff' : `in ${Math.ceil(wait / 1000)} s`}`,
      'unavailable',
      wait,
    );
  }
  if (response.status === 400 || response.status === 413) throw new TransportError(`the server refused the batch (${response.status}${named})`, 'bad-request');
  throw new TransportError(`the server answered HTTP ${response.status}${named}`, 'unavailable');
}

/**
 * Uploads events in gzip batches of at most `limits.maxEvents` (1000 unless the server said less)
 * and MAX_BATCH_BYTES of JSON. A batch the server refuses as a whole (400, 413 body too large) is
 * split in halves until the bad event stands alone; that one is reported rejected with the reason.
 * A batch of more events than the server takes is sent again in batches of its limit, remembered
 * in `limits` for the rest of the drain. A failure after some batches were answered carries their
 * results (TransportError.partial).
 */
export async function sendBatch(
  serverUrl: string,
  token: string,
  events: readonly Envelope[],
  signal?: AbortSignal,
  limits: BatchLimits = { maxEvents: MAX_BATCH_EVENTS },
): Promise<EventResult[]> {
  const results: EventResult[] = [];
  const sizes = events.map(jsonBytes);
  try {
    for (let start = 0; start < events.length; ) {
      const count = fitting(sizes.slice(start), { maxItems: limits.maxEvents, maxBytes: MAX_BATCH_BYTES, overhead: BODY_OVERHEAD_BYTES });
      try {
        results.push(...(await sendIsolating(serverUrl, token, events.slice(start, start + count), signal)));
      } catch (error) {
        if (!(error instanceof TooManyEvents)) throw error;
        const smaller = error.limit !== null && error.limit >= 1 && error.limit < count ? error.limit : Math.floor(count / 2);
        if (smaller < 1) throw new TransportError('the server refuses a batch of even one event as too many (413 batch_too_many_events)', 'unavailable');
        limits.maxEvents = smaller;
        continue;
      }
      start += count;
    }
  } catch (error) {
    if (error instanceof TransportError) error.partial = results;
    throw error;
  }
  return results;
}

async function sendIsolating(serverUrl: string, token: string, events: readonly Envelope[], signal?: AbortSignal): Promise<EventResult[]> {
  try {
    return await post(serverUrl, token, events, signal);
  } catch (error) {
    if (!(error instanceof TransportError) || error.kind !== 'bad-request') throw error;
    if (events.length === 1) return [{ event_id: events[0]!.event_id, status: 'rejected', error: error.message }];
    const middle = Math.ceil(events.length / 2);
    return [
      ...(await sendIsolating(serverUrl, token, events.slice(0, middle), signal)),
      ...(await sendIsolating(serverUrl, token, events.slice(middle), signal)),
    ];
  }
}

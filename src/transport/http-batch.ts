import { gzipSync } from 'node:zlib';
import type { Envelope } from '../derive/envelope.js';
import { fitting, jsonBytes, MAX_BATCH_BYTES, MAX_BATCH_EVENTS } from './limits.js';
import { TransportError, type EventResult } from './types.js';

/** `{"events":[]}`: the bytes of a body besides its events and their commas. */
const BODY_OVERHEAD_BYTES = Buffer.byteLength(JSON.stringify({ events: [] }));

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
  if (response.status === 401) throw new TransportError('the server refused the access token (401)', 'unauthorized');
  if (response.status === 400 || response.status === 413) throw new TransportError(`the server refused the batch (${response.status})`, 'bad-request');
  if (!response.ok) throw new TransportError(`the server answered HTTP ${response.status}`, 'unavailable');
  const body = (await response.json()) as { results?: EventResult[] };
  return Array.isArray(body.results) ? body.results : [];
}

/**
 * Uploads events in gzip batches of at most 1000 events and MAX_BATCH_BYTES of JSON. A batch the
 * server refuses as a whole (400, 413) is split in halves until the bad event stands alone; that
 * one is reported rejected with the reason.
 */
export async function sendBatch(serverUrl: string, token: string, events: readonly Envelope[], signal?: AbortSignal): Promise<EventResult[]> {
  const results: EventResult[] = [];
  const sizes = events.map(jsonBytes);
  for (let start = 0; start < events.length; ) {
    const count = fitting(sizes.slice(start), { maxItems: MAX_BATCH_EVENTS, maxBytes: MAX_BATCH_BYTES, overhead: BODY_OVERHEAD_BYTES });
    results.push(...(await sendIsolating(serverUrl, token, events.slice(start, start + count), signal)));
    start += count;
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
    return [...(await sendIsolating(serverUrl, token, events.slice(0, middle), signal)), ...(await sendIsolating(serverUrl, token, events.slice(middle), signal))];
  }
}

import { gzipSync } from 'node:zlib';
import type { Envelope } from '../derive/envelope.js';
import { TransportError, type EventResult } from './types.js';

export const MAX_BATCH = 1000;

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
 * Uploads events in gzip batches of at most 1000. A batch the server refuses as a whole (400) is
 * split in halves until the bad event stands alone; that one is reported rejected with the reason.
 */
export async function sendBatch(serverUrl: string, token: string, events: readonly Envelope[], signal?: AbortSignal): Promise<EventResult[]> {
  const results: EventResult[] = [];
  for (let start = 0; start < events.length; start += MAX_BATCH) {
    results.push(...(await sendIsolating(serverUrl, token, events.slice(start, start + MAX_BATCH), signal)));
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

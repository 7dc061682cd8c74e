import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Envelope } from '../../src/events/envelope.js';
import { EventQueue } from '../../src/queue/queue.js';
import { sendBatch } from '../../src/transport/http-batch.js';
import { runKittyAsync, tempDir, testEnv } from '../helpers/gitdir.js';
import { enqueue } from '../helpers/sync.js';

/**
 * A strict batch server on 127.0.0.1: it refuses a whole batch (400) that holds the poison event,
 * and leaves one event out of its results, as the lessons' servers did.
 */
async function strictServer(poison: string, omitted: string): Promise<{ url: string; batches: number[]; omittedIds: string[] }> {
  const batches: number[] = [];
  const omittedIds: string[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const { events } = JSON.parse(gunzipSync(Buffer.concat(chunks)).toString()) as { events: { event_id: string }[] };
    batches.push(events.length);
    if (events.some((event) => event.event_id === poison)) {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad batch"}');
      return;
    }
    if (omitted === 'first' && batches.length === 1) omittedIds.push(events[0]!.event_id);
    const results = events
      .filter((event) => event.event_id !== omitted && !omittedIds.includes(event.event_id))
      .map((event) => ({ event_id: event.event_id, status: 'success' }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, batches, omittedIds };
}

const events = Array.from({ length: 10 }, (_, i) => ({ event_id: `E${i}` }) as unknown as Envelope);

describe('batch HTTP transport', () => {
  it('splits a refused batch until the bad event stands alone; an omitted event gets no result', async () => {
    const server = await strictServer('E6', 'E2');
    const results = await sendBatch(server.url, 'token', events);
    expect(results.find((result) => result.event_id === 'E6')).toMatchObject({ status: 'rejected', error: expect.stringContaining('400') });
    expect(
      results
        .filter((result) => result.status === 'success')
        .map((result) => result.event_id)
        .sort(),
    ).toEqual(['E0', 'E1', 'E3', 'E4', 'E5', 'E7', 'E8', 'E9']);
    expect(results.some((result) => result.event_id === 'E2')).toBe(false);
    expect(server.batches[0]).toBe(10);
    expect(server.batches.length).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(10)));
  });
});

describe('a flush against a server that leaves an event out', () => {
  it('ends (no endless loop), keeps that event pending and says so', async () => {
    const server = await strictServer('none', 'first');
    const home = tempDir();
    const env = testEnv(home, { KITTY_TRANSPORT: 'http' });
    const far = Date.now() + 3600_000;
    writeFileSync(
      join(home, 'credentials.json'),
      JSON.stringify({ server_url: server.url, username: 'u', team_slug: 't', access: 'a', access_expires_at: far, refresh: 'r', refresh_expires_at: far }),
      { mode: 0o600 },
    );
    enqueue(home, 5, 'omit', 'abcdefabcdef');
    // async: the strict server lives in this process and must keep answering
    const flush = await runKittyAsync(['sync', 'flush', '--json', '--timeout', '30'], tempDir(), env);
    expect(flush.code).toBe(1);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 4, pending: 1 });
    const queue = EventQueue.open({ env });
    try {
      expect(queue.list({ state: 'pending' }).events.map((event) => event.envelope.event_id)).toEqual(server.omittedIds);
    } finally {
      queue.close();
    }
    expect(server.batches.length).toBeLessThan(10);
  });
});

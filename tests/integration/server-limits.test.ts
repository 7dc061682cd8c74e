import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { call, envelope, login, openSocket, rawSocket, type StartOptions, sendFrame, startHostileServer, within } from '../helpers/hostile.js';
import { eachStore } from '../helpers/postgres.js';

const PROJECT = '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e';
const HOUR = 3600_000;

async function batch(url: string, access: string, events: unknown[], gzip = false) {
  return call(url, 'POST', '/api/v1/events/batch/', { body: { events }, token: access, gzip });
}

// biome-ignore lint/suspicious/noExplicitAny: events as the server under test stored them
async function stored(url: string, access: string): Promise<any[]> {
  return (await call(url, 'GET', `/api/v1/projects/${PROJECT}/events/?limit=1000`, { token: access })).json;
}

function nested(depth: number, open: string, close: string, leaf: string): string {
  return `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;
}

describe('limits, answered per event or with 413/503, never by a crash', () => {
  it('an envelope over 64 KiB as a whole is rejected alone; the good ones are stored and served', async () => {
    const server = await startHostileServer();
    const { access } = await login(server.url);
    const [before, huge, after] = [envelope(), envelope({ notes: 'n'.repeat(100 * 1024) }), envelope()];
    const answer = await batch(server.url, access, [before, huge, after]);
    expect(answer.status).toBe(200);
    expect(answer.json.results).toEqual([
      { event_id: before.event_id, status: 'success' },
      { event_id: huge.event_id, status: 'rejected', code: 'envelope_too_large', error: 'event is larger than 65536 bytes as JSON' },
      { event_id: after.event_id, status: 'success' },
    ]);
    const served = await stored(server.url, access);
    expect(served.map((event) => event.event_id)).toEqual([before.event_id, after.event_id]);
  });

  it('a WebSocket frame of 101 events is refused whole with a reason; one of 100 is stored', async () => {
    const server = await startHostileServer();
    const { access } = await login(server.url);
    const socket = await openSocket(server.url, access);
    const refused = await sendFrame(
      socket,
      Array.from({ length: 101 }, () => envelope()),
    );
    expect(refused).toMatchObject({ type: 'error', code: 'frame_too_many_events', error: expect.stringContaining('at most 100 events per frame, got 101') });
    expect(await stored(server.url, access)).toEqual([]);
    const ack = await sendFrame(
      socket,
      Array.from({ length: 100 }, () => envelope()),
    );
    expect(ack.results).toHaveLength(100);
    expect((await stored(server.url, access)).length).toBe(100);
  });

  it('token endpoints take small bodies only: a 31 MiB login is refused before it is read, a chunked one at the cap', async () => {
    const server = await startHostileServer();
    for (const path of ['/api/v1/token/', '/api/v1/token/refresh/', '/api/v1/token/revoke/']) {
      const declared = await rawSocket(server.port);
      declared.socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${31 * 1024 * 1024}\r\n\r\n`);
      expect(await within(declared.ended, 10_000)).toBe(true);
      expect(await declared.ended).toMatch(/^HTTP\/1\.1 413 [\s\S]*"code":"body_too_large"/);
      const chunked = await rawSocket(server.port);
      chunked.socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let i = 0; i < 4 && !chunked.socket.destroyed; i++) chunked.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      expect(await within(chunked.ended, 10_000)).toBe(true);
      expect(await chunked.ended).toMatch(/^HTTP\/1\.1 413 /);
    }
    expect(await server.alive()).toBe(true);
  });

  it('body bytes read at once are capped: past the budget a request is answered 503 (retry), and served once bytes are free', async () => {
    const server = await startHostileServer({ limits: { bodyBudgetBytes: 1024 * 1024, batchBytes: 512 * 1024 } });
    const { access } = await login(server.url);
    const holders: Awaited<ReturnType<typeof rawSocket>>[] = [];
    for (let i = 0; i < 2; i++) {
      const holder = await rawSocket(server.port);
      holder.socket.write(
        `POST /api/v1/events/batch/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${access}\r\nContent-Type: application/json\r\nContent-Length: 500000\r\n\r\n`,
      );
      holder.socket.write(Buffer.alloc(480_000, 0x20));
      holders.push(holder);
    }
    // whichever body comes last past the budget is refused: a probe, or (when a probe's bytes beat a
    // holder's on a loaded machine) that holder; either way the answer is a 503 to retry after 1 s
    const refusedHolder = async (): Promise<string | undefined> => {
      for (const holder of holders) if (await within(holder.ended, 10)) return holder.ended;
      return undefined;
    };
    let busy: { json: unknown; retryAfter: unknown } | undefined;
    for (let attempt = 0; attempt < 100 && !busy; attempt++) {
      const answer = await call(server.url, 'POST', '/api/v1/events/batch/', { raw: Buffer.alloc(200_000, 0x20), token: access }).catch(() => null);
      const holderAnswer = await refusedHolder();
      if (answer?.status === 503) busy = { json: answer.json, retryAfter: answer.headers['retry-after'] };
      else if (holderAnswer?.startsWith('HTTP/1.1 503 ')) {
        busy = { json: JSON.parse(holderAnswer.slice(holderAnswer.indexOf('\r\n\r\n') + 4)), retryAfter: /^retry-after: (.*)\r$/im.exec(holderAnswer)?.[1] };
      } else await sleep(50);
    }
    expect(busy?.json).toMatchObject({ code: 'server_busy' });
    expect(busy?.retryAfter).toBe('1');
    for (const holder of holders) holder.socket.destroy();
    let after: number | undefined;
    for (let attempt = 0; attempt < 100 && after !== 400; attempt++) {
      after = (await call(server.url, 'POST', '/api/v1/events/batch/', { raw: Buffer.alloc(200_000, 0x20), token: access })).status;
      if (after !== 400) await sleep(50);
    }
    expect(after).toBe(400);
  });

  it('past maxConnections a new connection is closed unanswered; it is served once one closes', async () => {
    const server = await startHostileServer({ limits: { maxConnections: 4, keepAliveTimeoutMs: 120_000 } });
    const held = [];
    for (let i = 0; i < 4; i++) {
      const connection = await rawSocket(server.port);
      const answered = new Promise<void>((resolve) => connection.socket.once('data', () => resolve()));
      connection.socket.write('GET /api/health/ HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
      await answered;
      held.push(connection);
    }
    const extra = await rawSocket(server.port);
    extra.socket.write('GET /api/health/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await extra.ended).toBe('');
    held[0]!.socket.destroy();
    let status = 0;
    for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
      status = await call(server.url, 'GET', '/api/health/').then(
        (answer) => answer.status,
        () => 0,
      );
      if (status !== 200) await sleep(50);
    }
    expect(status).toBe(200);
  });

  it('slow clients are cut off: headers trickled one line at a time, and a body trickled a byte at a time', async () => {
    const server = await startHostileServer({ limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } });
    const headers = await rawSocket(server.port);
    headers.socket.write('GET /api/health/ HTTP/1.1\r\nHost: x\r\n');
    const body = await rawSocket(server.port);
    body.socket.write('POST /api/v1/token/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
    const trickle = setInterval(() => {
      if (!headers.socket.destroyed) headers.socket.write('X-Slow: 1\r\n');
      if (!body.socket.destroyed) body.socket.write(' ');
    }, 200);
    try {
      expect(await within(headers.ended, 20_000)).toBe(true);
      expect(await within(body.ended, 20_000)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    expect(await body.ended).toMatch(/^(HTTP\/1\.1 408|$)/);
    expect(await server.alive()).toBe(true);
  });
});

describe.each(eachStore())('per-event checks and pages ($name)', (store) => {
  const start = async (options: StartOptions = {}) => startHostileServer({ ...options, database: await store.database() });

  it('an events/ page is bounded in bytes as well as in count; following pages give every event once', async () => {
    const server = await start();
    const { access } = await login(server.url);
    const events = Array.from({ length: 40 }, () => envelope({ payload: { ...(envelope().payload as object), title: 'x'.repeat(60_000) } }));
    expect((await batch(server.url, access, events, true)).json.results.every((result: { status: string }) => result.status === 'success')).toBe(true);
    const seen: string[] = [];
    let after = '';
    for (let pages = 0; pages < 40; pages++) {
      const page = await call(server.url, 'GET', `/api/v1/projects/${PROJECT}/events/?limit=1000${after ? `&after=${after}` : ''}`, { token: access });
      expect(Buffer.byteLength(page.text)).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
      seen.push(...page.json.map((event: { event_id: string }) => event.event_id));
      after = seen.at(-1)!;
      if (page.headers['x-kitty-more'] !== 'true') break;
    }
    expect(seen).toEqual(events.map((event) => event.event_id));
  });

  it('rejects future timestamps past 24 h, impossible dates, NUL and lone surrogates, each with a reason', async () => {
    const server = await start();
    const { access } = await login(server.url);
    const payload = envelope().payload as Record<string, unknown>;
    const cases: [Record<string, unknown>, string | null][] = [
      [envelope({ timestamp: new Date(Date.now() + 25 * HOUR).toISOString() }), 'timestamp_in_future'],
      [envelope({ timestamp: '9999-12-31T23:59:59Z' }), 'timestamp_in_future'],
      [envelope({ timestamp: new Date(Date.now() + 23 * HOUR).toISOString() }), null],
      [envelope({ timestamp: '2024-02-30T10:00:00Z' }), 'timestamp_invalid'],
      [envelope({ timestamp: '2023-02-29T10:00:00Z' }), 'timestamp_invalid'],
      [envelope({ timestamp: '2024-01-01T24:00:00Z' }), 'timestamp_invalid'],
      [envelope({ timestamp: '2024-02-29T10:00:00.123456789Z' }), null],
      [envelope({ payload: { ...payload, actor: 'ad\u0000a' } }), 'string_nul'],
      [envelope({ git: { 'bra\u0000nch': 'main' } }), 'string_nul'],
      [envelope({ payload: { ...payload, title: 'half \ud800 a pair' } }), 'string_lone_surrogate'],
      [envelope({ payload: { ...payload, title: 'a whole pair \ud83d\ude00' } }), null],
    ];
    const answer = await batch(
      server.url,
      access,
      cases.map(([event]) => event),
    );
    expect(answer.status).toBe(200);
    expect(answer.json.results.map((result: { code?: string }) => result.code ?? null)).toEqual(cases.map(([, code]) => code));
    for (const result of answer.json.results.filter((r: { status: string }) => r.status === 'rejected'))
      expect(result.error).toMatch(/timestamp|NUL|surrogate/);
    expect(answer.json.results[0].error).toMatch(/more than 24 h ahead of the server's clock/);
    expect(answer.json.results[8].error).toContain('git."bra\\u0000nch" (key) contains a NUL character');
    expect((await stored(server.url, access)).length).toBe(3);
  });

  it('one event nested 200,000 levels deep is rejected alone, over HTTP and over the WebSocket; the good ones are stored', async () => {
    const server = await start();
    const { access } = await login(server.url);
    const [first, last] = [envelope(), envelope()];
    const deepId = '01JDEEPDEEPDEEPDEEPDEEPDEE';
    const deep = JSON.stringify(envelope({ event_id: deepId })).replace(/}$/, `,"extra":${nested(200_000, '{"a":', '}', '1')}}`);
    const body = `{"events":[${JSON.stringify(first)},${deep},${JSON.stringify(last)}]}`;
    const answer = await call(server.url, 'POST', '/api/v1/events/batch/', { raw: body, token: access, gzip: true });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json.results.map((result: { status: string; code?: string }) => [result.status, result.code])).toEqual([
      ['success', undefined],
      ['rejected', 'envelope_too_deep'],
      ['success', undefined],
    ]);
    expect(answer.json.results[1]).toMatchObject({
      event_id: deepId,
      error: 'extra.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a is nested deeper than 32 levels',
    });

    const socket = await openSocket(server.url, access);
    const good = envelope();
    const deepArray = JSON.stringify(envelope({ event_id: deepId })).replace(/}$/, `,"extra":${nested(200_000, '[', ']', '1')}}`);
    socket.ws.send(`{"type":"events","events":[${deepArray},${JSON.stringify(good)}]}`);
    const ack = await socket.next();
    expect(ack.results.map((result: { status: string; code?: string }) => [result.status, result.code])).toEqual([
      ['rejected', 'envelope_too_deep'],
      ['success', undefined],
    ]);
    expect((await stored(server.url, access)).map((event) => event.event_id)).toEqual([first.event_id, last.event_id, good.event_id]);
    expect(await server.alive()).toBe(true);
  });

  it('a body that is not valid UTF-8 is refused (400 body_not_utf8), not stored with replacement characters', async () => {
    const server = await start();
    const { access } = await login(server.url);
    const text = JSON.stringify({ events: [envelope({ payload: { ...(envelope().payload as object), actor: 'ACTOR' } })] });
    const raw = Buffer.from(text);
    raw.set([0xff, 0xfe], raw.indexOf('ACTOR'));
    const answer = await call(server.url, 'POST', '/api/v1/events/batch/', { raw, token: access });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: 'body_not_utf8' });
    expect(await stored(server.url, access)).toEqual([]);
  });
});

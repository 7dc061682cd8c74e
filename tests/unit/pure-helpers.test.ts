import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkServerUrl } from '../../src/auth/server-url.js';
import { backoffMs } from '../../src/flusher/drain.js';
import { parseRequest } from '../../src/hooks/requests.js';
import { shQuote } from '../../src/hooks/stub.js';
import { checkShape, checkTimestamp } from '../../src/server/validate.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(64);

describe('checkServerUrl', () => {
  it('keeps the origin and path, without trailing slashes', () => {
    expect(checkServerUrl('https://kitty.example.com/', 'x')).toBe('https://kitty.example.com');
    expect(checkServerUrl('https://kitty.example.com/team//?q=1#f', 'x')).toBe('https://kitty.example.com/team');
    expect(checkServerUrl('HTTPS://Kitty.Example.com:443/', 'x')).toBe('https://kitty.example.com');
  });

  it('allows plain http only to a loopback host', () => {
    expect(checkServerUrl('http://127.0.0.1:8787', 'x')).toBe('http://127.0.0.1:8787');
    expect(checkServerUrl('http://localhost:8787/', 'x')).toBe('http://localhost:8787');
    expect(checkServerUrl('http://[::1]:8787', 'x')).toBe('http://[::1]:8787');
    expect(() => checkServerUrl('http://kitty.example.com/a/', 'KITTY_SERVER_URL')).toThrow(
      expect.objectContaining({
        code: 'KITTY_ERR_INSECURE_URL',
        message: expect.stringContaining('(from KITTY_SERVER_URL)'),
        hint: 'use https://kitty.example.com/a/',
      }),
    );
  });

  it('refuses what is not an http(s) URL as a usage error naming its source', () => {
    expect(() => checkServerUrl('kitty.example.com', '--server')).toThrow(
      expect.objectContaining({ code: 'KITTY_ERR_USAGE', exitCode: 2, message: 'not a server URL: "kitty.example.com" (from --server)' }),
    );
    expect(() => checkServerUrl('ftp://kitty.example.com', '--server')).toThrow(
      expect.objectContaining({ code: 'KITTY_ERR_USAGE', message: expect.stringContaining('got "ftp:"') }),
    );
  });
});

describe('backoffMs', () => {
  afterEach(() => vi.restoreAllMocks());

  it('doubles from 0.5 s per failure up to 30 s, at the top of its jitter', () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 50].map(backoffMs)).toEqual([500, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('jitters over the whole interval down to zero', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffMs(7)).toBe(0);
    vi.spyOn(Math, 'random').mockReturnValue(0.25);
    expect(backoffMs(3)).toBe(500);
  });
});

describe('parseRequest', () => {
  it('reads what the stub writes, sections included', () => {
    const text = [
      'hook post-rewrite rebase',
      'future-field ignored',
      'gitdir /r/.git/worktrees/w',
      'ref refs/heads/main',
      `head ${A}`,
      'rewritten',
      `${A} ${B}`,
      `${B} ${C} extra`,
      `${A} not-a-sha`,
      'squash',
      `commit ${C}`,
      'Author: Ada',
      `commit ${B}x`,
      'end',
      '',
    ].join('\n');
    expect(parseRequest(text, '/q/1')).toEqual({
      path: '/q/1',
      hook: 'post-rewrite',
      args: ['rebase'],
      gitDir: '/r/.git/worktrees/w',
      head: A,
      ref: 'refs/heads/main',
      rewritten: [
        { from: A, to: B },
        { from: B, to: C },
      ],
      squashed: [C],
    });
  });

  it('keeps the fields it can trust: no head that is not a sha, no empty values', () => {
    expect(parseRequest('hook post-commit\ngitdir\nref\nhead HEAD\nend\n', '/q/2')).toEqual({
      path: '/q/2',
      hook: 'post-commit',
      args: [],
      gitDir: null,
      head: null,
      ref: null,
      rewritten: [],
      squashed: [],
    });
    expect(parseRequest('hook post-merge  1  \nend', '/q/3')).toMatchObject({ args: ['1'] });
  });

  it('tells a request still being written from one that is not a request', () => {
    expect(parseRequest('', '/q/4')).toBe('partial');
    expect(parseRequest(`hook post-commit\nhead ${A}\n`, '/q/5')).toBe('partial');
    expect(parseRequest('hook post-commit\nrewritten\n', '/q/6')).toBe('partial');
    expect(parseRequest('not a request\nend\n', '/q/7')).toBeNull();
    expect(parseRequest('\nhook post-commit\nend\n', '/q/8')).toBeNull();
  });
});

describe('shQuote', () => {
  it('quotes for POSIX sh so the shell hands back the value unchanged', () => {
    const values = ['/usr/bin/node', "/Users/O'Brien/kitty", 'a b\tc', '$HOME `id` $(id) "x" \\n', "''", '', 'ü/日本'];
    for (const value of values) {
      expect(shQuote(value).startsWith("'")).toBe(true);
      expect(execFileSync('sh', ['-c', `printf '%s' ${shQuote(value)}`], { encoding: 'utf8' })).toBe(value);
    }
    expect(shQuote("it's")).toBe("'it'\\''s'");
  });
});

describe('checkShape', () => {
  const limits = { envelopeBytes: 64 * 1024, envelopeDepth: 32 };

  it('measures exactly the bytes of the JSON, refusing one byte past the bound', () => {
    const events: unknown[] = [
      { a: 'x' },
      { event_id: '01J0000000000000000000000A', lamport_clock: 12, causation_id: null, ok: true, list: [1, -2.5, 'three', [], {}] },
      { 'naïve key': 'é — 😀', quote: 'say "hi"\\', control: '\t\n\u0001' },
      [],
    ];
    for (const event of events) {
      const bytes = Buffer.byteLength(JSON.stringify(event));
      expect(checkShape(event, { ...limits, envelopeBytes: bytes })).toBeNull();
      expect(checkShape(event, { ...limits, envelopeBytes: bytes - 1 })).toEqual({
        code: 'envelope_too_large',
        message: `event is larger than ${bytes - 1} bytes as JSON`,
      });
    }
  });

  it('refuses a huge string or container before walking it', () => {
    expect(checkShape({ s: 'x'.repeat(100) }, { ...limits, envelopeBytes: 99 })?.code).toBe('envelope_too_large');
    expect(checkShape(new Array(1_000_000).fill(0), limits)?.code).toBe('envelope_too_large');
  });

  it('names where nesting passes the depth bound, without recursing', () => {
    expect(checkShape({ a: { b: 1 } }, { ...limits, envelopeDepth: 2 })).toBeNull();
    expect(checkShape({ a: [{ b: {} }] }, { ...limits, envelopeDepth: 3 })).toEqual({
      code: 'envelope_too_deep',
      message: 'a[0].b is nested deeper than 3 levels',
    });
    let deep: unknown = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(checkShape(deep, limits)?.code).toBe('envelope_too_deep');
  });

  it('refuses NUL and lone surrogates in values and keys, by a path that carries neither', () => {
    expect(checkShape({ payload: { title: 'a\u0000b' } }, limits)).toEqual({ code: 'string_nul', message: 'payload.title contains a NUL character' });
    expect(checkShape({ list: ['ok', 'half \ud800'] }, limits)).toEqual({
      code: 'string_lone_surrogate',
      message: 'list[1] contains a lone UTF-16 surrogate (not valid Unicode)',
    });
    expect(checkShape({ 'bad\u0000key': 1 }, limits)).toEqual({ code: 'string_nul', message: '"bad\\u0000key" (key) contains a NUL character' });
    expect(checkShape({ pair: '😀' }, limits)).toBeNull();
  });
});

describe('checkTimestamp', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  const day = 24 * 3600_000;

  it('accepts a real UTC instant, fractions to the nanosecond included', () => {
    expect(checkTimestamp('2026-03-01T11:59:59Z', now, day)).toBeNull();
    expect(checkTimestamp('2024-02-29T23:59:59.123456789Z', now, day)).toBeNull();
  });

  it('refuses what is not ISO 8601 UTC, or names no real date and time', () => {
    for (const value of ['2026-03-01T12:00:00+00:00', '2026-03-01 12:00:00Z', '2026-03-01T12:00Z', 1767225600, null]) {
      expect(checkTimestamp(value, now, day)).toEqual({
        code: 'timestamp_invalid',
        message: `timestamp must be ISO 8601 UTC (…Z), got ${JSON.stringify(value)}`,
      });
    }
    for (const value of ['2023-02-29T10:00:00Z', '2026-04-31T10:00:00Z', '2026-01-01T24:00:00Z', '2026-01-01T10:60:00Z', '2026-01-01T10:00:60Z']) {
      expect(checkTimestamp(value, now, day)).toEqual({ code: 'timestamp_invalid', message: `timestamp "${value}" is not a real date and time` });
    }
  });

  it('allows the future up to the skew and not a second past it', () => {
    expect(checkTimestamp('2026-03-02T12:00:00Z', now, day)).toBeNull();
    expect(checkTimestamp('2026-03-02T12:00:01Z', now, day)).toEqual({
      code: 'timestamp_in_future',
      message: "timestamp 2026-03-02T12:00:01Z is more than 24 h ahead of the server's clock (2026-03-01T12:00:00.000Z)",
    });
  });
});

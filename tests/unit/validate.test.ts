import { describe, expect, it, vi } from 'vitest';
import Database from '../../src/deps/better-sqlite3.js';
import { DEFAULT_LIMITS } from '../../src/server/limits.js';
import { checkShape, checkTimestamp, timestampKey, timestampKeySql, validatedJson } from '../../src/server/validate.js';
import { draft } from '../helpers/events.js';

const ID = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
const NOW = Date.parse('2026-01-01T00:00:00Z');
const HOUR = 3600_000;

/** A valid event with `changes` applied (undefined removes a field). */
function event(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const base = { ...draft(ID), lamport_clock: 1 } as Record<string, unknown>;
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

function payload(changes: Record<string, unknown>): Record<string, unknown> {
  return { ...(draft(ID).payload as Record<string, unknown>), ...changes };
}

/** Why an event is rejected, or null when it is stored. */
function validate(value: unknown) {
  const result = validatedJson(value, DEFAULT_LIMITS, NOW);
  return typeof result === 'string' ? null : result;
}

describe('validatedJson: what it rejects', () => {
  it('accepts a valid event, and one without the optional causation_id and project_slug', () => {
    expect(validate(event())).toBeNull();
    expect(validate(event({ causation_id: undefined, project_slug: undefined }))).toBeNull();
    expect(validate(event({ causation_id: ID, project_slug: null }))).toBeNull();
    expect(validate(event({ event_type: 'FeatureCreated', payload: {} }))).toBeNull();
  });

  it('refuses what is not a JSON object', () => {
    for (const value of [null, [], 'x', 3]) expect(validate(value)).toEqual({ code: 'invalid_envelope', message: 'event is not a JSON object' });
  });

  it.each([
    [{ event_id: undefined }, 'event_id must be a 26-char ULID, got undefined'],
    [{ event_id: ID.toLowerCase() }, `event_id must be a 26-char ULID, got "${ID.toLowerCase()}"`],
    [{ event_type: 'WPDeleted' }, 'unknown event_type "WPDeleted"'],
    [{ event_type: '' }, 'unknown event_type ""'],
    [{ aggregate_id: '' }, 'aggregate_id is required'],
    [{ aggregate_type: 7 }, 'aggregate_type is required'],
    [{ payload: [] }, 'payload must be an object'],
    [{ node_id: 'ABCDEFABCDEF' }, 'node_id must be 12 lower-case hex chars, got "ABCDEFABCDEF"'],
    [{ node_id: 12 }, 'node_id must be 12 lower-case hex chars, got 12'],
    [{ lamport_clock: 0 }, 'lamport_clock must be an integer >= 1, got 0'],
    [{ lamport_clock: 1.5 }, 'lamport_clock must be an integer >= 1, got 1.5'],
    [{ lamport_clock: '3' }, 'lamport_clock must be an integer >= 1, got "3"'],
    [{ causation_id: 'not-a-ulid' }, 'causation_id must be a ULID or null'],
    [{ causation_id: '' }, 'causation_id must be a ULID or null'],
    [{ team_slug: undefined }, 'team_slug is required'],
    [{ project_uuid: '0b5c7d4e-1f2a-1b3c-8d9e-0f1a2b3c4d5e' }, 'project_uuid must be a UUID v4, got "0b5c7d4e-1f2a-1b3c-8d9e-0f1a2b3c4d5e"'],
    [{ project_uuid: undefined }, 'project_uuid must be a UUID v4, got undefined'],
    [{ project_slug: 'Not_Kebab' }, 'project_slug must be kebab-case or null'],
    [{ project_slug: '' }, 'project_slug must be kebab-case or null'],
    [{ git: 'main' }, 'git must be an object'],
    [{ schema_version: '2.0.0' }, 'unsupported schema_version "2.0.0"'],
    [{ schema_version: undefined }, 'unsupported schema_version undefined'],
  ])('refuses the field %j: %s', (changes, message) => {
    expect(validate(event(changes))).toEqual({ code: 'invalid_envelope', message });
  });

  it.each([
    [{ wp_id: 'WP1' }, 'payload.wp_id must match WPnn, got "WP1"'],
    [{ wp_id: undefined }, 'payload.wp_id must match WPnn, got undefined'],
    [{ wp_id: 'WP02' }, 'payload.wp_id must equal aggregate_id'],
    [{ feature_slug: '' }, 'payload.feature_slug is required'],
    [{ from_lane: '' }, 'payload.from_lane must be a lane or null'],
    [{ from_lane: undefined }, 'payload.from_lane must be a lane or null'],
    [{ to_lane: null }, 'payload.to_lane is required'],
  ])('refuses the WPStatusChanged payload %j: %s', (changes, message) => {
    const changed = payload(changes);
    for (const [key, value] of Object.entries(changes)) if (value === undefined) delete changed[key];
    expect(validate(event({ payload: changed }))).toEqual({ code: 'invalid_envelope', message });
  });

  it('accepts a move from a lane, and checks the payload only of WPStatusChanged', () => {
    expect(validate(event({ payload: payload({ from_lane: 'doing' }) }))).toBeNull();
    expect(validate(event({ event_type: 'WPCreated', payload: { wp_id: 'nope' } }))).toBeNull();
  });

  it('checks the shape before the fields, and the timestamp last', () => {
    expect(validate(event({ event_id: 'bad', note: 'a\u0000b' }))).toMatchObject({ code: 'string_nul' });
    expect(validate(event({ event_id: 'bad', timestamp: 'never' }))).toMatchObject({ code: 'invalid_envelope' });
    expect(validate(event({ timestamp: 'never' }))).toEqual({ code: 'timestamp_invalid', message: 'timestamp must be ISO 8601 UTC (…Z), got "never"' });
  });
});

describe('checkShape', () => {
  const limits = { envelopeBytes: DEFAULT_LIMITS.envelopeBytes, envelopeDepth: DEFAULT_LIMITS.envelopeDepth };

  it.each([
    ['an envelope', { ...draft(ID), lamport_clock: 12 }],
    ['an empty object', {}],
    ['an empty array', []],
    ['scalars of every kind', { n: -12.5, t: true, f: false, z: null, list: [1, 'two', null, [], {}] }],
    ['escapes and non-ASCII', { 'quote"key': 'tab\there, new\nline, back\\slash, é, 😀, \u0001' }],
    ['a string alone', 'plain'],
    ['numbers JSON.parse reads as Infinity (written back as null)', JSON.parse('{"big":1e400,"small":-1e400,"zero":-0}')],
  ])('counts %s to the byte: it passes at its JSON size and is refused one byte below', (_name, value) => {
    const bytes = Buffer.byteLength(JSON.stringify(value));
    expect(checkShape(value, { ...limits, envelopeBytes: bytes })).toBeNull();
    expect(checkShape(value, { ...limits, envelopeBytes: bytes - 1 })).toEqual({
      code: 'envelope_too_large',
      message: `event is larger than ${bytes - 1} bytes as JSON`,
    });
  });

  it('refuses a huge array by its punctuation, and a long string by its length, before walking them', () => {
    expect(checkShape({ a: new Array(100_000).fill(0) }, limits)).toMatchObject({ code: 'envelope_too_large' });
    expect(checkShape({ a: 'x'.repeat(limits.envelopeBytes + 1) }, limits)).toMatchObject({ code: 'envelope_too_large' });
    expect(checkShape({ ['k'.repeat(limits.envelopeBytes)]: 1 }, limits)).toMatchObject({ code: 'envelope_too_large' });
  });

  it('names where a value nests too deep', () => {
    expect(checkShape({ a: { b: {} } }, { ...limits, envelopeDepth: 2 })).toEqual({
      code: 'envelope_too_deep',
      message: 'a.b is nested deeper than 2 levels',
    });
    expect(checkShape({ a: [[1]] }, { ...limits, envelopeDepth: 2 })).toEqual({ code: 'envelope_too_deep', message: 'a[0] is nested deeper than 2 levels' });
    expect(checkShape({}, { ...limits, envelopeDepth: 0 })).toEqual({ code: 'envelope_too_deep', message: 'event is nested deeper than 0 levels' });
    expect(checkShape({ a: { b: {} } }, { ...limits, envelopeDepth: 3 })).toBeNull();
  });

  it('walks 200,000 levels of nesting without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(checkShape({ deep }, limits)).toMatchObject({ code: 'envelope_too_deep', message: `deep${'[0]'.repeat(31)} is nested deeper than 32 levels` });
  });

  it('refuses a NUL or a lone surrogate in a value or a key, naming it JSON-escaped', () => {
    expect(checkShape({ git: { branch: 'a\u0000b' } }, limits)).toEqual({ code: 'string_nul', message: 'git.branch contains a NUL character' });
    expect(checkShape({ list: ['ok', '\uD800x'] }, limits)).toEqual({
      code: 'string_lone_surrogate',
      message: 'list[1] contains a lone UTF-16 surrogate (not valid Unicode)',
    });
    expect(checkShape({ x: 'x\uDC00' }, limits)).toMatchObject({ code: 'string_lone_surrogate' });
    expect(checkShape({ 'a\u0000b': 1 }, limits)).toEqual({ code: 'string_nul', message: '"a\\u0000b" (key) contains a NUL character' });
    expect(checkShape({ p: { ['\uDBFF'.repeat(2)]: 1 } }, limits)).toEqual({
      code: 'string_lone_surrogate',
      message: 'p."\\udbff\\udbff" (key) contains a lone UTF-16 surrogate (not valid Unicode)',
    });
    expect(checkShape('\u0000', limits)).toEqual({ code: 'string_nul', message: 'event contains a NUL character' });
    // a pair is fine
    expect(checkShape({ x: '\uD83D\uDE00' }, limits)).toBeNull();
  });

  it('cuts a long odd key to 64 characters in the path', () => {
    const key = `${'é'.repeat(100)}\u0000`;
    expect(checkShape({ [key]: 1 }, limits)).toEqual({ code: 'string_nul', message: `"${'é'.repeat(64)}" (key) contains a NUL character` });
  });
});

describe('validatedJson', () => {
  const limits = DEFAULT_LIMITS;

  /** A seeded generator, so a failure names an event that can be made again. */
  function random(seed: number): () => number {
    let state = seed;
    // mulberry32
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    };
  }

  const ODD_STRINGS = ['plain', 'a\u0000b', '\uD800', 'x\uDC00y', '\uD83D\uDE00', 'back\\u0041slash', '\u0001', 'tab\t', 'é', '"quoted"', '\\', ''];

  /** A valid event with odd strings, keys, nesting and sizes in its payload. */
  function fuzzed(next: () => number): Record<string, unknown> {
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const extra: Record<string, unknown> = {};
    for (let i = 0; i < 1 + Math.floor(next() * 4); i++) {
      const kind = next();
      const key = next() < 0.2 ? pick(ODD_STRINGS) : `k${i}`;
      if (kind < 0.4) extra[key] = pick(ODD_STRINGS);
      else if (kind < 0.5) extra[key] = 'x'.repeat(Math.floor(next() * 70_000));
      else if (kind < 0.55) extra[key] = Array.from({ length: Math.floor(next() * 40_000) }, () => (next() < 0.5 ? {} : []));
      else if (kind < 0.75) {
        let deep: unknown = pick(ODD_STRINGS);
        for (let d = Math.floor(next() * 40); d > 0; d--) deep = next() < 0.5 ? [deep] : { [pick(ODD_STRINGS)]: deep };
        extra[key] = deep;
      } else extra[key] = [next() * 1e6, null, true, -0, 1e21, Number.POSITIVE_INFINITY];
    }
    return event({ payload: payload({ extra }) });
  }

  it('agrees with the full walk on 3,000 odd events: its rejection, or the JSON the store keeps', () => {
    const next = random(7);
    const outcomes = new Set<string>();
    for (let i = 0; i < 3_000; i++) {
      const value = fuzzed(next);
      const shape = checkShape(value, limits);
      const result = validatedJson(value, limits, NOW);
      if (shape) expect(result).toEqual(shape);
      else expect(result).toBe(JSON.stringify(value));
      outcomes.add(typeof result === 'string' ? 'stored' : result.code);
    }
    // every path was taken
    expect([...outcomes].sort()).toEqual(['envelope_too_deep', 'envelope_too_large', 'stored', 'string_lone_surrogate', 'string_nul']);
  });

  it('refuses an oversized event without stringifying it: a hostile 8 MiB body costs no more than its parse', () => {
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      for (const huge of [
        { a: new Array(400_000).fill(1e20) },
        { s: 'x'.repeat(8 << 20) },
        Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, 1])),
      ]) {
        expect(validatedJson(event({ payload: payload(huge) }), limits, NOW)).toMatchObject({ code: 'envelope_too_large' });
      }
      expect(stringify).not.toHaveBeenCalled();
    } finally {
      stringify.mockRestore();
    }
  });

  it('checks fields and the timestamp only of an event whose shape passes', () => {
    expect(validatedJson(event({ event_id: 'bad' }), limits, NOW)).toMatchObject({ code: 'invalid_envelope' });
    expect(validatedJson(event({ timestamp: '2026-02-30T00:00:00Z' }), limits, NOW)).toMatchObject({ code: 'timestamp_invalid' });
    expect(validatedJson(event({ event_id: 'bad', note: '\uD800' }), limits, NOW)).toMatchObject({ code: 'string_lone_surrogate' });
  });
});

describe('checkTimestamp', () => {
  /** What a Date makes of the fields: a date and time that roll over are not real. */
  function realByDate(value: string): boolean {
    const [year, month, day, hour, minute, second] = value.match(/\d+/g)!.slice(0, 6).map(Number) as [number, number, number, number, number, number];
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    date.setUTCHours(hour, minute, second, 0);
    return (
      date.getUTCFullYear() === year &&
      date.getUTCMonth() === month - 1 &&
      date.getUTCDate() === day &&
      date.getUTCHours() === hour &&
      date.getUTCMinutes() === minute &&
      date.getUTCSeconds() === second
    );
  }

  it('agrees with the calendar of Date on every day of 0000-0003, 1900, 2000 and 2023-2025, and on times that roll over', () => {
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    let refused = 0;
    for (const year of [0, 1, 2, 3, 1900, 2000, 2023, 2024, 2025]) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) {
          const value = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(day % 25)}:${pad((day * 7) % 61)}:${pad((day * 13) % 61)}Z`;
          const real = checkTimestamp(value, NOW, HOUR) === null;
          expect(real, value).toBe(realByDate(value));
          if (!real) refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(1_000);
  });

  it('accepts real UTC instants up to the skew past now, fractions to the nanosecond', () => {
    expect(checkTimestamp('2024-02-29T23:59:59Z', NOW, HOUR)).toBeNull();
    expect(checkTimestamp('2026-01-01T01:00:00Z', NOW, HOUR)).toBeNull();
    expect(checkTimestamp('2025-12-31T12:00:00.123456789Z', NOW, HOUR)).toBeNull();
    expect(checkTimestamp('0050-06-01T00:00:00Z', NOW, HOUR)).toBeNull();
  });

  it('refuses what is not ISO 8601 UTC', () => {
    for (const value of [undefined, 17, '2026-01-01T00:00:00+01:00', '2026-01-01 00:00:00Z', '2026-01-01T00:00:00.1234567890Z']) {
      expect(checkTimestamp(value, NOW, HOUR)).toEqual({
        code: 'timestamp_invalid',
        message: `timestamp must be ISO 8601 UTC (…Z), got ${JSON.stringify(value)}`,
      });
    }
  });

  it.each(['2023-02-29T00:00:00Z', '2024-02-30T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:60:00Z', '2024-01-01T00:00:60Z'])(
    'refuses %s, which is no real date and time',
    (value) => {
      expect(checkTimestamp(value, NOW, HOUR)).toEqual({ code: 'timestamp_invalid', message: `timestamp "${value}" is not a real date and time` });
    },
  );

  it('refuses a timestamp past the allowed skew, in hours', () => {
    expect(checkTimestamp('2026-01-01T01:00:01Z', NOW, HOUR)).toEqual({
      code: 'timestamp_in_future',
      message: "timestamp 2026-01-01T01:00:01Z is more than 1 h ahead of the server's clock (2026-01-01T00:00:00.000Z)",
    });
    expect(checkTimestamp('2026-01-02T00:00:01Z', NOW, DEFAULT_LIMITS.futureSkewMs)).toMatchObject({
      code: 'timestamp_in_future',
      message: expect.stringContaining('more than 24 h ahead'),
    });
  });
});

describe('timestampKey', () => {
  it('pads the fraction to nine digits, so keys sort like the instants', () => {
    expect(timestampKey('2026-01-01T00:00:00Z')).toBe('2026-01-01T00:00:00.000000000Z');
    expect(timestampKey('2026-01-01T00:00:00.5Z')).toBe('2026-01-01T00:00:00.500000000Z');
    expect(timestampKey('2026-01-01T00:00:00.123456789Z')).toBe('2026-01-01T00:00:00.123456789Z');
    const sorted = ['2026-01-01T00:00:00.5Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.05Z'].map(timestampKey).sort();
    expect(sorted).toEqual(['2026-01-01T00:00:00.000000000Z', '2026-01-01T00:00:00.050000000Z', '2026-01-01T00:00:00.500000000Z']);
  });

  it('is the same in SQL as in TypeScript, for every length of fraction', () => {
    const db = new Database(':memory:');
    try {
      const key = db.prepare(`SELECT ${timestampKeySql('?')} AS k`).pluck();
      for (const fraction of ['', '.1', '.12', '.123', '.1234', '.12345', '.123456', '.1234567', '.12345678', '.123456789']) {
        const value = `2026-03-04T05:06:07${fraction}Z`;
        expect(key.get(value, value, value, value), value).toBe(timestampKey(value));
      }
    } finally {
      db.close();
    }
  });
});

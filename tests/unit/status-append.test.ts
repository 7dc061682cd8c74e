import { describe, expect, it } from 'vitest';
import {
  actorLike,
  appendMove,
  formatLike,
  type LogMove,
  lastTransitionLine,
  lineAddition,
  moveRecord,
  timeLike,
} from '../../src/workpackage/status-append.js';

const NOW = new Date('2026-02-03T04:05:06.789Z');
const MOVE: LogMove = {
  eventId: '01JGZ6A0000000000000000000',
  wpId: 'WP01',
  fromLane: 'doing',
  toLane: 'for_review',
  now: NOW,
  actor: { name: 'Ada Tester', email: 'ada@example.com' },
  note: null,
  feature: '055-x',
};

describe('status log append: time, actor and line style like the template', () => {
  it("writes the time with the template's fraction digits and zone", () => {
    expect(timeLike('2026-01-03T10:11:12.345+00:00', NOW)).toBe('2026-02-03T04:05:06.789+00:00');
    expect(timeLike('2026-01-03T10:11:12.345678+00:00', NOW)).toBe('2026-02-03T04:05:06.789000+00:00');
    expect(timeLike('2026-01-03T10:11:12Z', NOW)).toBe('2026-02-03T04:05:06Z');
    expect(timeLike('2026-01-03T10:11:12.3Z', NOW)).toBe('2026-02-03T04:05:06.7Z');
    expect(timeLike('2026-01-03 10:11:12+0200', NOW)).toBe('2026-02-03 04:05:06+0000');
    expect(timeLike('2026-01-03T10:11:12', NOW)).toBe('2026-02-03T04:05:06Z');
    expect(timeLike(1767435072, NOW)).toBe('2026-02-03T04:05:06.789Z');
  });

  it("writes the actor as a string, or as an object with the template's keys", () => {
    expect(actorLike('claude', MOVE.actor)).toBe('Ada Tester');
    expect(actorLike(null, MOVE.actor)).toBe('Ada Tester');
    expect(actorLike({ display: 'claude', id: 'a1', kind: 'agent' }, MOVE.actor)).toEqual({ display: 'Ada Tester', id: 'ada@example.com', kind: 'human' });
    expect(Object.keys(actorLike({ kind: 'agent', display: 'c', role: 'x' }, { name: 'Ada', email: null }) as object)).toEqual(['kind', 'display', 'role']);
    expect(actorLike({ id: 'a1', role: 'x' }, { name: 'Ada', email: null })).toEqual({ id: 'Ada', role: null });
  });

  it("keeps the template's keys and order, copies the feature's keys, clears what belonged to its move", () => {
    const raw =
      '{"wp_id":"WP02","to_lane":"planned","from_lane":"genesis","mission_slug":"055-x","mission_id":"01KTH57W8EWXDH8TCHNP485YMS","event_id":"01JGZ5W3Q0A1B2C3D4E5F6G7H8","at":"2026-01-03T10:11:12Z","actor":"claude","force":true,"reason":"bootstrap","evidence":{"a":1},"execution_mode":"worktree","extra":"x"}';
    const { record, noteKept } = moveRecord({ record: JSON.parse(raw) as Record<string, unknown>, raw }, { ...MOVE, note: 'ready' });
    expect(record).toEqual({
      wp_id: 'WP01',
      to_lane: 'for_review',
      from_lane: 'doing',
      mission_slug: '055-x',
      mission_id: '01KTH57W8EWXDH8TCHNP485YMS',
      event_id: MOVE.eventId,
      at: '2026-02-03T04:05:06Z',
      actor: 'Ada Tester',
      force: false,
      reason: 'ready',
      evidence: null,
      execution_mode: 'worktree',
      extra: null,
    });
    expect(Object.keys(record)).toEqual(Object.keys(JSON.parse(raw) as object));
    expect(noteKept).toBe(true);
    expect(moveRecord({ record: { wp_id: 'x', to_lane: 'y' }, raw: '{}' }, { ...MOVE, note: 'lost' }).noteKept).toBe(false);
    expect(moveRecord({ record: { from_lane: 'x' }, raw: '{}' }, { ...MOVE, fromLane: null }).record).toEqual({ from_lane: 'genesis' });
  });

  it("writes the line with the template's separators and, for an ASCII file, ASCII escapes", () => {
    const record = { a: 'é — x', b: { c: [1, null] } };
    expect(formatLike({ record: {}, raw: '{"a": 1, "b": 2}' }, record)).toBe('{"a": "\\u00e9 \\u2014 x", "b": {"c": [1, null]}}');
    expect(formatLike({ record: {}, raw: '{"a":1,"b":2}' }, record)).toBe('{"a":"\\u00e9 \\u2014 x","b":{"c":[1,null]}}');
    expect(formatLike({ record: {}, raw: '{"a":"déjà"}' }, record)).toBe('{"a":"é — x","b":{"c":[1,null]}}');
    expect(JSON.parse(formatLike({ record: {}, raw: '{}' }, { a: '😀' }))).toEqual({ a: '😀' });
  });

  it('appends after a final newline, adds a missing one first, and keeps CRLF files CRLF', () => {
    expect(lineAddition('', 'L')).toBe('L\n');
    expect(lineAddition('a\n', 'L')).toBe('L\n');
    expect(lineAddition('a', 'L')).toBe('\nL\n');
    expect(lineAddition('a\r\nb', 'L')).toBe('\r\nL\r\n');
    expect(lineAddition('a\r\n', 'L')).toBe('L\r\n');
  });

  it('takes the last transition line as the template, skipping other kinds and bad lines', () => {
    const lines = ['{"wp_id":"WP01","to_lane":"doing","a":1}', '{"kind":"annotation"}', 'oops', ''];
    expect(lastTransitionLine(lines.join('\n'))).toEqual({ record: { wp_id: 'WP01', to_lane: 'doing', a: 1 }, raw: lines[0] });
    expect(lastTransitionLine('{"event_type":"WPCreated"}\n')).toBeNull();
    const fresh = appendMove('', MOVE);
    expect(fresh.addition).toBe(
      '{"event_id":"01JGZ6A0000000000000000000","wp_id":"WP01","from_lane":"doing","to_lane":"for_review","at":"2026-02-03T04:05:06.789+00:00","actor":"Ada Tester","feature_slug":"055-x"}\n',
    );
  });
});

describe('status log append: keys that name object properties', () => {
  it('treats constructor and __proto__ as plain keys', () => {
    const raw = '{"__proto__":{"x":1},"constructor":"c","to_lane":"a","wp_id":"WP01","actor":{"toString":"t"}}';
    const { record } = moveRecord({ record: JSON.parse(raw) as Record<string, unknown>, raw }, MOVE);
    const line = formatLike({ record: {}, raw }, record);
    expect(line).toBe('{"__proto__":null,"constructor":null,"to_lane":"for_review","wp_id":"WP01","actor":{"toString":null}}');
  });
});

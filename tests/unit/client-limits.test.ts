import { describe, expect, it } from 'vitest';
import { sanitize } from '../../src/cli/output.js';
import { isAbsurdLamport, MAX_CLOCK_JUMP, MAX_LAMPORT, serverClockProblem } from '../../src/clock/lamport.js';
import { parseConfig } from '../../src/identity/config-file.js';
import { statedUuid } from '../../src/identity/project-uuid.js';
import { fitting, jsonBytes, oversizeReason } from '../../src/transport/limits.js';
import { draft } from '../helpers/events.js';

describe('sanitize', () => {
  it('shows every control character and escape sequence as a visible escape, and leaves the rest alone', () => {
    expect(sanitize('plain · ünïcode → ∅ 😀')).toBe('plain · ünïcode → ∅ 😀');
    expect(sanitize('\x1b]0;title\x07\x1b[2J')).toBe('\\x1b]0;title\\x07\\x1b[2J');
    expect(sanitize('a\nb\rc\td\x00e\x7f\x9b')).toBe('a\\nb\\rc\\td\\x00e\\x7f\\x9b');
    expect(sanitize('abc\u202edef\u2066')).toBe('abc\\u202edef\\u2066');
    expect(sanitize(42)).toBe('42');
  });
});

describe('frame packing', () => {
  it('fills a send up to its byte budget, counting the wrapper and the commas', () => {
    expect(fitting([10, 10, 10], { maxItems: 100, maxBytes: 2 + 10 + 1 + 10, overhead: 2 })).toBe(2);
    expect(fitting([10, 10, 10], { maxItems: 100, maxBytes: 2 + 10 + 1 + 10 - 1, overhead: 2 })).toBe(1);
    expect(
      fitting(
        Array.from({ length: 500 }, () => 10),
        { maxItems: 100, maxBytes: 1 << 20, overhead: 2 },
      ),
    ).toBe(100);
  });

  it('always takes one item, so a drain moves on past one it could not fit', () => {
    expect(fitting([5000], { maxItems: 100, maxBytes: 100, overhead: 2 })).toBe(1);
    expect(fitting([], { maxItems: 100, maxBytes: 100, overhead: 2 })).toBe(0);
  });

  it('names the size and the field that makes an envelope too large', () => {
    const small = { ...draft('01J0000000000000000000000A'), lamport_clock: 1 };
    expect(oversizeReason(small)).toBeNull();
    const big = { ...small, git: { ...small.git, branch: 'b'.repeat(70_000) } };
    expect(oversizeReason(big)).toBe(
      `envelope is ${jsonBytes(big)} bytes as JSON (mostly git.branch), over the 65536-byte limit of one event; kept here, never sent`,
    );
  });
});

describe('server clocks', () => {
  it('adopts a clock ahead within bounds, and refuses one that is absurd', () => {
    expect(serverClockProblem(0, 0)).toBeNull();
    expect(serverClockProblem(MAX_CLOCK_JUMP + 7, 7)).toBeNull();
    expect(serverClockProblem(MAX_CLOCK_JUMP + 8, 7)).toMatch(/more than 1000000000 ahead of this machine's clock \(7\)/);
    expect(serverClockProblem(Number.MAX_SAFE_INTEGER, MAX_LAMPORT)).toMatch(/above 2\^48/);
    expect(serverClockProblem(2 ** 53, 0)).toMatch(/not a whole number/);
    expect(serverClockProblem(-1, 0)).toMatch(/not a whole number/);
    expect(serverClockProblem(1.5, 0)).toMatch(/not a whole number/);
  });

  it('knows an event stamp no sane clock hands out', () => {
    expect([1, MAX_LAMPORT].map(isAbsurdLamport)).toEqual([false, false]);
    expect([0, MAX_LAMPORT + 1, 2 ** 53, 1.5, '3', null].map(isAbsurdLamport)).toEqual([true, true, true, true, true, true]);
  });
});

describe('the uuid a config states', () => {
  it('tells a usable uuid from none at all and from one that cannot be read', () => {
    expect(statedUuid({ kind: 'absent' })).toEqual({ kind: 'none' });
    expect(statedUuid(parseConfig('project:\n  uuid: 0B5C7D4E-1F2A-4B3C-8D9E-0F1A2B3C4D5E\n'))).toEqual({
      kind: 'ok',
      uuid: '0B5C7D4E-1F2A-4B3C-8D9E-0F1A2B3C4D5E',
    });
    expect(statedUuid(parseConfig('project:\n  slug: x\n'))).toEqual({ kind: 'none' });
    expect(statedUuid(parseConfig('project:\n  uuid:\n'))).toEqual({ kind: 'none' });
    expect(statedUuid(parseConfig('project:\n  uuid: [1, 2]\n'))).toEqual({ kind: 'lost', seen: '[1,2]' });
    expect(statedUuid(parseConfig('project:\n  uuid: "7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b\n  slug: [x\n'))).toEqual({
      kind: 'ok',
      uuid: '7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b',
    });
    expect(statedUuid(parseConfig('project:\n  uuid: 7d1f2a3b-4c5d  # cut\n  slug: [x\n'))).toEqual({ kind: 'lost', seen: '7d1f2a3b-4c5d' });
    expect(statedUuid(parseConfig('project: [x\n'))).toEqual({ kind: 'none' });
  });
});

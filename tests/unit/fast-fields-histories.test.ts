import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fastFields, sequenceBase } from '../../src/workpackage/fast-fields.js';

/** What the full parser says the three fields are. */
function full(text: string): { lane: unknown; title: unknown; history: unknown } {
  const data = parse(text, { uniqueKeys: false }) as Record<string, unknown> | null;
  return { lane: data?.lane, title: data?.title, history: data?.history };
}

function entry(n: number, tag: string): string {
  return `  - timestamp: "2026-01-01T00:00:${String(n % 60).padStart(2, '0')}Z"\n    lane: doing\n    agent: agent-${tag}-${n}\n    action: step ${n} of a long history\n`;
}

/** A frontmatter whose history block is past the size read incrementally (4096 bytes). */
function longHistory(tag: string, count: number): string {
  let text = `lane: doing\ntitle: Long ${tag}\nhistory:\n`;
  for (let n = 0; n < count; n++) text += entry(n, tag);
  return text;
}

describe('fast fields: shapes at the edges of the slicer', () => {
  const agrees: Record<string, string> = {
    historyKeyWithoutNewline: 'lane: doing\nhistory:',
    historyAsMapping: 'lane: doing\nhistory:\n  note: not a list\n',
    historyOnlyComments: 'lane: doing\nhistory:\n  # nothing yet\n',
    onlyComments: '# a comment\n# another\n',
    loneCarriageReturn: 'lane: do\ring\ntitle: T\n',
    emptyItem: 'history:\n  -\n  - timestamp: t\n    lane: done\n',
  };
  for (const [name, text] of Object.entries(agrees)) {
    it(`reads ${name} as the full parser does`, () => {
      const fast = fastFields(text);
      expect(fast, name).not.toBeNull();
      expect(fast).toEqual(full(text));
    });
  }

  it('returns exact values for the empty and odd cases', () => {
    expect(fastFields('lane: doing\nhistory:')).toEqual({ lane: 'doing', title: undefined, history: null });
    expect(fastFields('lane: doing\nhistory:\n  note: not a list\n')).toEqual({ lane: 'doing', title: undefined, history: { note: 'not a list' } });
    expect(fastFields('# a comment\n')).toEqual({ lane: undefined, title: undefined, history: undefined });
    expect(fastFields('')).toEqual({ lane: undefined, title: undefined, history: undefined });
    expect(fastFields('   \n\n')).toEqual({ lane: undefined, title: undefined, history: undefined });
    expect(fastFields('lane: do\ring\n')?.lane).toBe('do\ring');
  });

  it('declines text whose first lines are indented, or that has no key at all', () => {
    expect(fastFields('  indented: x\nlane: doing\n')).toBeNull();
    expect(fastFields('  just indented text\n')).toBeNull();
    expect(fastFields('plain words\n')).toBeNull();
  });

  it('declines a history with a line outside its items, or content before the first item', () => {
    // one space less than the items: neither an item nor inside one
    expect(fastFields('history:\n  - timestamp: t\n    lane: doing\n lane: stray\n')).toBeNull();
    const before = 'history:\n  stray: 1\n  - timestamp: t\n    lane: doing\n';
    expect(() => parse(before)).toThrow();
    expect(fastFields(before)).toBeNull();
  });
});

it('keeps reading correctly once its bounded piece cache evicts (past 20,000 pieces)', () => {
  const count = 20_050;
  for (let n = 0; n < count; n++) expect(fastFields(`lane: evict-${n}\n`)!.lane).toBe(`evict-${n}`);
  // the first pieces were evicted: read again, they give the same values
  expect(fastFields('lane: evict-0\n')).toEqual({ lane: 'evict-0', title: undefined, history: undefined });
  expect(fastFields('lane: evict-1\ntitle: again\n')).toEqual({ lane: 'evict-1', title: 'again', history: undefined });
});

describe('fast fields: long histories read incrementally', () => {
  it('reads a long history, then a version that appends entries, like the full parser', () => {
    const first = longHistory('a', 40);
    expect(first.length).toBeGreaterThan(4096);
    const one = fastFields(first)!;
    expect(one).toEqual(full(first));
    expect((one.history as unknown[]).length).toBe(40);
    expect(sequenceBase(one.history as unknown[])).toBeUndefined();

    const second = first + entry(40, 'a') + entry(41, 'a');
    const two = fastFields(second)!;
    expect(two).toEqual(full(second));
    expect((two.history as unknown[]).length).toBe(42);
    // read as an extension: the first 40 values are the very objects read before
    expect(sequenceBase(two.history as unknown[])).toBe(one.history);
    expect((two.history as unknown[])[0]).toBe((one.history as unknown[])[0]);
  });

  it('answers the same version again with the same values', () => {
    const text = longHistory('b', 40);
    const one = fastFields(text)!;
    const again = fastFields(text)!;
    expect(again.history).toBe(one.history);
  });

  it('reads a version that rewrote the history (no append) whole', () => {
    const first = longHistory('c', 40);
    const one = fastFields(first)!;
    // same start (the cache key), but an earlier entry changed: not an extension
    const rewritten = first.replace('agent: agent-c-39', 'agent: someone-else') + entry(40, 'c');
    const two = fastFields(rewritten)!;
    expect(two).toEqual(full(rewritten));
    expect(sequenceBase(two.history as unknown[])).toBeUndefined();
    expect((two.history as Record<string, unknown>[])[39]!.agent).toBe('someone-else');
    // a shorter version than both remembered ones is read whole too
    const shorter = longHistory('c', 39);
    expect(fastFields(shorter)).toEqual(full(shorter));
    expect(one.history).toEqual(full(first).history);
  });

  it('reads an appended tail that continues the last item whole, not as new items', () => {
    const first = longHistory('d', 40);
    fastFields(first);
    const continued = `${first}    note: added to the last entry\n`;
    const two = fastFields(continued)!;
    expect(two).toEqual(full(continued));
    expect((two.history as Record<string, unknown>[])[39]!.note).toBe('added to the last entry');
    expect(sequenceBase(two.history as unknown[])).toBeUndefined();
  });

  it('declines a long history whose tail is not an item, and one that is not a sequence', () => {
    const first = longHistory('e', 40);
    fastFields(first);
    expect(fastFields(`${first} stray: x\n`)).toBeNull();
    const mapping = `history:\n${'  k: v\n'.repeat(1)}${Array.from({ length: 700 }, (_, n) => `  key${n}: v\n`).join('')}`;
    expect(mapping.length).toBeGreaterThan(4096);
    const read = fastFields(mapping);
    expect(read).toEqual(full(mapping));
  });
});

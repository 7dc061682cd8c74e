import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { appendSequenceItem, spliceYaml } from '../../src/yaml/edit.js';

describe('spliceYaml', () => {
  it('replaces an existing scalar in place, whatever its type, keeping comments and quoting what would read back as another type', () => {
    const text = '# head\nproject:\n  uuid: old # keep\n  n: 1\nflag: yes\n';
    const edited = spliceYaml(text, [
      { path: ['project', 'uuid'], value: '0123' },
      { path: ['project', 'n'], value: 2 },
      { path: ['flag'], value: false },
    ]);
    expect(edited).toBe('# head\nproject:\n  uuid: "0123" # keep\n  n: 2\nflag: false\n');
    expect(parse(edited!)).toEqual({ project: { uuid: '0123', n: 2 }, flag: false });
  });

  it('adds a key to a block mapping at its indent, after its last entry, even when that entry has no value', () => {
    expect(spliceYaml('a:\n    b: 1\n    c:\nz: 0\n', [{ path: ['a', 'd'], value: 'x' }])).toBe('a:\n    b: 1\n    c:\n    d: x\nz: 0\n');
    expect(spliceYaml('a: 1\n', [{ path: ['b'], value: 2 }])).toBe('a: 1\nb: 2\n');
    expect(spliceYaml('a:\n  b: 1', [{ path: ['a', 'c'], value: 'x' }])).toBe('a:\n  b: 1\n  c: x');
  });

  it('creates a missing parent mapping at the end, in an empty file too', () => {
    expect(spliceYaml('', [{ path: ['sync', 'auto_start'], value: true }])).toBe('sync:\n  auto_start: true\n');
    expect(spliceYaml('a: 1\n', [{ path: ['sync', 'url'], value: 'u' }])).toBe('a: 1\nsync:\n  url: u\n');
    expect(spliceYaml('# nothing yet', [{ path: ['sync', 'url'], value: 'u' }])).toBe('# nothing yet\nsync:\n  url: u\n');
  });

  it.each([
    ['malformed YAML', 'a: [1\n', ['a']],
    ['a mapping where a scalar should be replaced', 'a:\n  b: 1\n', ['a']],
    ['a sequence where a scalar should be replaced', 'a: [1]\n', ['a']],
    ['a flow mapping to add to', 'a: {b: 1}\n', ['a', 'c']],
    ['a flow mapping at the top', '{a: 1}\n', ['b']],
    ['a scalar where the parent mapping should be', 'a: 1\n', ['a', 'b']],
    ['a missing parent two levels up', 'a: 1\n', ['x', 'y', 'z']],
    ['an empty file and a top-level key', '', ['a']],
    ['a top-level sequence', '- 1\n', ['x', 'y']],
  ])('cannot splice into %s: null, for the caller to fall back on', (_name, text, path) => {
    expect(spliceYaml(text, [{ path, value: 'v' }])).toBeNull();
  });
});

describe('appendSequenceItem', () => {
  const item = { timestamp: '2026-01-01T00:00:00Z', lane: 'doing', agent: '007' };

  it('appends to a block sequence at its own indent, after its last item', () => {
    expect(appendSequenceItem('title: T\nhistory:\n  - lane: planned\n    agent: a\nend: 1\n', 'history', item)).toBe(
      'title: T\nhistory:\n  - lane: planned\n    agent: a\n  - timestamp: 2026-01-01T00:00:00Z\n    lane: doing\n    agent: "007"\nend: 1\n',
    );
    expect(appendSequenceItem('history:\n- lane: planned\n', 'history', { lane: 'done' })).toBe('history:\n- lane: planned\n- lane: done\n');
    expect(appendSequenceItem('history:\n  - lane: planned', 'history', { lane: 'done' })).toBe('history:\n  - lane: planned\n  - lane: done');
  });

  it('creates the key at the end when it is missing, with or without a final newline', () => {
    expect(appendSequenceItem('', 'history', { lane: 'done' })).toBe('history:\n  - lane: done\n');
    expect(appendSequenceItem('a: 1', 'history', { lane: 'done' })).toBe('a: 1\nhistory:\n  - lane: done\n');
    expect(appendSequenceItem('a: 1\n', 'history', { lane: 'done' })).toBe('a: 1\nhistory:\n  - lane: done\n');
  });

  it.each([
    ['history:\nz: 1\n', 'history:\n  - lane: done\nz: 1\n'],
    ['history: ~\n', 'history:\n  - lane: done\n'],
    ['history: null   # none yet\nz: 1\n', 'history:\n  - lane: done\nz: 1\n'],
  ])('fills an empty key %j', (text, expected) => {
    expect(appendSequenceItem(text, 'history', { lane: 'done' })).toBe(expected);
  });

  it.each([
    ['malformed YAML', 'history: [\n'],
    ['a flow sequence', 'history: [a]\n'],
    ['an empty flow sequence', 'history: []\n'],
    ['a mapping', 'history:\n  a: 1\n'],
    ['a string', 'history: none\n'],
    ['an empty key inside a flow mapping', '{history: null}\n'],
    ['a null written as a tag', 'history: !!null\n'],
  ])('leaves %s to the caller: null', (_name, text) => {
    expect(appendSequenceItem(text, 'history', { lane: 'done' })).toBeNull();
  });
});

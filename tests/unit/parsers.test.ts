import { createHash } from 'node:crypto';
import { decodeTime, isValid, ulid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { transitionEventId } from '../../src/derive/event-id.js';
import { deriveWpTransitions, newEntries } from '../../src/derive/transitions.js';
import { parseLogRecord } from '../../src/git/log.js';
import { parseRepoInfo } from '../../src/git/repo.js';
import { parseWorkPackage } from '../../src/workpackage/frontmatter.js';
import { classifyPath } from '../../src/workpackage/paths.js';
import { addedLines, parseStatusLines } from '../../src/workpackage/status-log.js';
import { spliceYaml } from '../../src/yaml/edit.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const Z = '0'.repeat(40);

describe('repository paths from rev-parse', () => {
  it('reads the three paths, and refuses output a newline in a path has shifted', () => {
    expect(parseRepoInfo('/r\n/r/.git\n.git\n', '/r')).toEqual({ root: '/r', gitDir: '/r/.git', commonDir: '/r/.git' });
    expect(() => parseRepoInfo('/a\nb\n/a\nb/.git\n.git\n', '/a\nb')).toThrow(expect.objectContaining({ code: 'KITTY_ERR_REPO_PATH_UNSUPPORTED' }));
  });
});

describe('git log record parser', () => {
  it('reads a commit with an add and a modify', () => {
    const record = `${C}\x1f${A}\x1f2026-01-02T03:04:05+02:00\x1fAda\0\n:000000 100644 ${Z} ${B} A\0kitty-specs/f/tasks/WP01.md\0:100644 100644 ${A} ${B} M\0kitty-specs/f/status.events.jsonl\0`;
    expect(parseLogRecord(record)).toEqual({
      sha: C,
      parents: [A],
      authorDate: '2026-01-02T03:04:05+02:00',
      authorName: 'Ada',
      changes: [
        { path: 'kitty-specs/f/tasks/WP01.md', before: [null], after: B },
        { path: 'kitty-specs/f/status.events.jsonl', before: [A], after: B },
      ],
    });
  });

  it('reads a combined (merge) entry with one blob per parent, and a root commit without changes', () => {
    const merge = `${C}\x1f${A} ${B}\x1f2026-01-02T03:04:05Z\x1fBo b\0\n::100644 100644 100644 ${A} ${B} ${C} MM\0kitty-specs/f/tasks/WP01.md\0`;
    expect(parseLogRecord(merge).changes).toEqual([{ path: 'kitty-specs/f/tasks/WP01.md', before: [A, B], after: C }]);
    expect(parseLogRecord(merge).authorName).toBe('Bo b');
    expect(parseLogRecord(`${A}\x1f\x1f2026-01-01T00:00:00Z\x1fX\0`)).toMatchObject({ parents: [], changes: [] });
  });
});

describe('work-package paths and files', () => {
  it('classifies flat, legacy and status-log paths, and nothing else', () => {
    expect(classifyPath('kitty-specs/001-x/tasks/WP01-setup.md')).toEqual({ kind: 'wp', feature: '001-x', wpId: 'WP01', folderLane: null });
    expect(classifyPath('kitty-specs/001-x/tasks/doing/WP123.md')).toEqual({ kind: 'wp', feature: '001-x', wpId: 'WP123', folderLane: 'doing' });
    expect(classifyPath('kitty-specs/001-x/status.events.jsonl')).toEqual({ kind: 'status-log', feature: '001-x' });
    for (const other of [
      'kitty-specs/001-x/spec.md',
      'kitty-specs/001-x/tasks/README.md',
      'kitty-specs/001-x/tasks/WP1.md',
      'docs/tasks/WP01.md',
      'kitty-specs/001-x/tasks/a/b/WP01.md',
    ]) {
      expect(classifyPath(other)).toBeNull();
    }
  });

  it('parses lane, history and title; CRLF and BOM too; no frontmatter means no lane', () => {
    const text =
      '\uFEFF---\r\ntitle: T\r\nlane: "for_review"\r\nhistory:\r\n  - timestamp: 2026-01-01T10:00:00+01:00\r\n    lane: doing\r\n    agent: bob\r\n  - note: no lane, ignored\r\n---\r\nbody\r\n';
    expect(parseWorkPackage(text, 'x')).toEqual({
      lane: 'for_review',
      title: 'T',
      history: [{ timestamp: '2026-01-01T10:00:00+01:00', at: '2026-01-01T09:00:00Z', lane: 'doing', agent: 'bob', action: null }],
    });
    expect(parseWorkPackage('# just markdown\n', 'x')).toEqual({ lane: null, history: [], title: null });
  });
});

describe('status log lines', () => {
  it('finds appended lines without rescanning and falls back to a multiset difference', () => {
    expect(addedLines('a\nb\n', 'a\nb\nc\n')).toEqual({ lines: ['c'], removed: [], firstLineNumber: 3 });
    expect(addedLines('a\nb\n', 'b\nx\na\n').lines).toEqual(['x']);
    expect(addedLines('a\nb\nb\n', 'b\nx\n')).toEqual({ lines: ['x'], removed: ['a', 'b'], firstLineNumber: 1 });
    expect(addedLines(null, 'a\n')).toEqual({ lines: ['a'], removed: [], firstLineNumber: 1 });
  });

  it('skips a line over the length limit with its number, and parses the others', () => {
    const long = JSON.stringify({ wp_id: 'WP01', to_lane: 'done', note: 'x'.repeat(3 * 1024 * 1024) });
    const parsed = parseStatusLines([long, '{"wp_id":"WP02","to_lane":"done"}'], 7, 2 * 1024 * 1024);
    expect(parsed.problems).toEqual([{ line: 7, message: `line of ${long.length} characters is over the 2 MiB limit` }]);
    expect(parsed.transitions.map((line) => line.wpId)).toEqual(['WP02']);
  });

  it('keeps transition lines, counts other kinds, reports bad ones by line', () => {
    const parsed = parseStatusLines(
      ['{"wp_id":"WP01","to_lane":"done","at":"2026-01-01T00:00:00Z"}', '{"kind":"annotation"}', '[1]', '{"to_lane":"done"}'],
      10,
    );
    expect(parsed.transitions).toHaveLength(1);
    expect(parsed.skipped).toBe(1);
    expect(parsed.problems).toEqual([
      { line: 12, message: 'not a JSON object' },
      { line: 13, message: 'transition line without wp_id' },
    ]);
  });
});

describe('derivation rules', () => {
  const commit = { authorDate: '2026-05-05T05:05:05Z', authorName: 'Ada' };
  const state = (lane: string | null, history: { timestamp: string; lane: string }[] = []) => ({
    lane,
    title: null,
    history: history.map((h) => ({ ...h, at: h.timestamp, agent: null, action: null })),
  });

  it('yields nothing when the lane did not change and no history was added', () => {
    expect(deriveWpTransitions({ featureSlug: 'f', wpId: 'WP01', before: state('doing'), otherParents: [], after: state('doing') }, commit)).toEqual([]);
  });

  it("yields nothing for a deleted WP, and nothing for a merge that took a parent's lane", () => {
    expect(deriveWpTransitions({ featureSlug: 'f', wpId: 'WP01', before: state('doing'), otherParents: [], after: null }, commit)).toEqual([]);
    expect(
      deriveWpTransitions({ featureSlug: 'f', wpId: 'WP01', before: state('planned'), otherParents: [state('done')], after: state('done') }, commit),
    ).toEqual([]);
  });

  it('skips history entries that do not change the lane', () => {
    const before = state('planned', [{ timestamp: '2026-01-01T00:00:00Z', lane: 'planned' }]);
    const after = state('doing', [
      { timestamp: '2026-01-01T00:00:00Z', lane: 'planned' },
      { timestamp: '2026-01-02T00:00:00Z', lane: 'planned' },
      { timestamp: '2026-01-03T00:00:00Z', lane: 'doing' },
    ]);
    const result = deriveWpTransitions({ featureSlug: 'f', wpId: 'WP01', before, otherParents: [], after }, commit);
    expect(result.map((t) => [t.fromLane, t.toLane, t.key])).toEqual([['planned', 'doing', 'f/WP01|2026-01-03T00:00:00Z|doing']]);
  });

  it.each([3, 12])('finds the new history entries of %s added the same way: by time and lane, whatever characters they hold', (count) => {
    const entry = (timestamp: string, lane: string) => ({ timestamp, at: null, lane, agent: null, action: null });
    const known = [entry('T|a', 'b'), entry('2026-01-01T00:00:00Z', 'planned')];
    const added = Array.from({ length: count - 2 }, (_, i) => entry(`2026-02-${String(i + 1).padStart(2, '0')}T00:00:00Z`, 'doing'));
    const after = { lane: 'doing', title: null, history: [entry('T', 'a|b'), known[1]!, ...added, known[0]!, entry('T', 'a|b')] };
    // entries of another file's version share no objects with these: every one is looked up
    expect(newEntries(after, [{ lane: 'planned', title: null, history: known }, null])).toEqual([entry('T', 'a|b'), ...added]);
  });
});

describe('deterministic event ids', () => {
  it('are valid ULIDs whose time is the transition time, equal for equal inputs and different otherwise', () => {
    const at = Date.parse('2026-03-04T05:06:07Z');
    const id = transitionEventId('u-1', 'key', at);
    expect(isValid(id)).toBe(true);
    expect(decodeTime(id)).toBe(at);
    expect(transitionEventId('u-1', 'key', at)).toBe(id);
    expect(transitionEventId('u-2', 'key', at)).not.toBe(id);
    expect(transitionEventId('u-1', 'key2', at)).not.toBe(id);
    expect(isValid(transitionEventId('u', 'k', Number.NaN))).toBe(true);
  });

  it('are the ids earlier releases gave: ulid() drawing the hash bytes as its random source', () => {
    const earlier = (projectUuid: string, key: string, atMs: number): string => {
      const digest = createHash('sha256')
        .update(projectUuid + key)
        .digest();
      let index = 0;
      return ulid(atMs, () => (digest[index++ % digest.length]! & 31) / 32);
    };
    for (let n = 0; n < 200; n++) {
      const at = Date.parse('2020-01-01T00:00:00Z') + n * 7_919_003;
      expect(transitionEventId('0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e', `h|001-x/WP${n}|doing|${at}`, at)).toBe(
        earlier('0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e', `h|001-x/WP${n}|doing|${at}`, at),
      );
    }
  });
});

describe('YAML splicing', () => {
  it('replaces scalars in place, appends keys to a block map, quotes ambiguous values', () => {
    const text = 'a: 1   # keep\nproject:\n    uuid: ~ # c\n    x: [1,  2]\n';
    expect(
      spliceYaml(text, [
        { path: ['project', 'uuid'], value: 'U' },
        { path: ['project', 'node_id'], value: '123456789012' },
      ]),
    ).toBe('a: 1   # keep\nproject:\n    uuid: U # c\n    x: [1,  2]\n    node_id: "123456789012"\n');
    expect(spliceYaml('a: 1', [{ path: ['sync', 'auto_start'], value: true }])).toBe('a: 1\nsync:\n  auto_start: true\n');
    expect(spliceYaml('project: {uuid: x}\n', [{ path: ['project', 'slug'], value: 's' }])).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { reconcileRewrite } from '../../src/derive/rewrite.js';
import { laneChangeKey, type Transition } from '../../src/derive/transitions.js';
import { findFrontmatter } from '../../src/workpackage/frontmatter.js';
import { moveWorkPackageText } from '../../src/workpackage/move.js';
import { normalizeTime } from '../../src/workpackage/time.js';

const ITEM = { timestamp: '2026-01-01T00:00:00Z', lane: 'doing', agent: 'ada' };

/** The frontmatter of a moved file, parsed. */
function frontmatterOf(text: string): Record<string, unknown> {
  return parse(findFrontmatter(text)!.text) as Record<string, unknown>;
}

describe('moveWorkPackageText', () => {
  it('splices the lane and appends to a block history, every other byte kept', () => {
    const text = '---\ntitle: T # mine\nlane: planned\nhistory:\n  - timestamp: "2025-12-31T00:00:00Z"\n    lane: planned\n    agent: bo\n---\n\n# Body\n';
    expect(moveWorkPackageText(text, 'doing', { ...ITEM, action: 'start' })).toBe(
      '---\ntitle: T # mine\nlane: doing\nhistory:\n  - timestamp: "2025-12-31T00:00:00Z"\n    lane: planned\n    agent: bo\n' +
        '  - timestamp: 2026-01-01T00:00:00Z\n    lane: doing\n    agent: ada\n    action: start\n---\n\n# Body\n',
    );
  });

  it('gives a file without frontmatter one, with the lane and the first history item, before the body', () => {
    expect(moveWorkPackageText('# Just a body\n', 'doing', ITEM)).toBe(
      '---\nlane: doing\nhistory:\n  - timestamp: 2026-01-01T00:00:00Z\n    lane: doing\n    agent: ada\n---\n\n# Just a body\n',
    );
  });

  it('goes through the Document API for a flow history, keeping its items and the comments', () => {
    const moved = moveWorkPackageText('---\n# note\nlane: planned\nhistory: [{lane: planned, timestamp: x}]\n---\nbody\n', 'doing', ITEM);
    expect(moved).toContain('# note\n');
    expect(moved.endsWith('---\nbody\n')).toBe(true);
    expect(frontmatterOf(moved)).toEqual({ lane: 'doing', history: [{ lane: 'planned', timestamp: 'x' }, ITEM] });
  });

  it('starts a history where the old value was no list, and sets the lane in a flow mapping', () => {
    expect(frontmatterOf(moveWorkPackageText('---\n{title: T}\n---\n', 'done', ITEM))).toEqual({ title: 'T', lane: 'done', history: [ITEM] });
    expect(frontmatterOf(moveWorkPackageText('---\nlane: [a, b]\nhistory: nothing\n---\n', 'done', ITEM))).toEqual({ lane: 'done', history: [ITEM] });
    const empty = moveWorkPackageText('---\n---\nbody\n', 'done', ITEM);
    expect(frontmatterOf(empty)).toEqual({ lane: 'done', history: [ITEM] });
    expect(empty.endsWith('\n---\nbody\n')).toBe(true);
  });
});

describe('normalizeTime', () => {
  it('writes UTC with a Z, dropping only a zero millisecond part', () => {
    expect(normalizeTime('2026-01-01T10:00:00+01:00')).toBe('2026-01-01T09:00:00Z');
    expect(normalizeTime('2026-01-01T00:00:00.250Z')).toBe('2026-01-01T00:00:00.250Z');
    expect(normalizeTime(new Date('2026-03-04T05:06:07.000Z'))).toBe('2026-03-04T05:06:07Z');
  });

  it('answers null for what is no time, read from the cache the second time too', () => {
    for (const value of [null, undefined, '', 'someday', {}, Number.NaN]) expect(normalizeTime(value)).toBeNull();
    expect(normalizeTime('someday')).toBeNull();
    expect(normalizeTime('2026-01-01T10:00:00+01:00')).toBe('2026-01-01T09:00:00Z');
  });

  it('keeps answering right after its cache is full and starts over', () => {
    const base = Date.parse('2020-01-01T00:00:00Z');
    const inputs = Array.from({ length: 50_010 }, (_, i) => new Date(base + i * 1000).toISOString().replace('Z', '+00:00'));
    const outputs = inputs.map(normalizeTime);
    expect(outputs[0]).toBe('2020-01-01T00:00:00Z');
    expect(outputs.at(-1)).toBe(new Date(base + 50_009_000).toISOString().replace('.000Z', 'Z'));
    expect(normalizeTime(inputs[0])).toBe('2020-01-01T00:00:00Z');
    expect(normalizeTime(inputs[50_005])).toBe(outputs[50_005]);
  });
});

describe('reconcileRewrite', () => {
  const commit = { authorDate: '2026-05-05T05:05:05Z', authorName: 'Ada' };
  function move(fromLane: string | null, toLane: string, extra: Partial<Transition> = {}): Transition {
    const t = { featureSlug: 'f', wpId: 'WP01', fromLane, toLane, at: commit.authorDate, actor: 'Ada', source: 'frontmatter' as const, ...extra };
    return { key: laneChangeKey(t.featureSlug, t.wpId, fromLane, toLane, '2026-01-01T00:00:00Z'), ...t };
  }

  it('passes history and status-log transitions through untouched', () => {
    const history = move('planned', 'doing', { source: 'history', key: 'h' });
    const log = move('planned', 'doing', { source: 'status-log', key: 'l' });
    expect(reconcileRewrite([history, log], [move('planned', 'doing')], commit)).toEqual([history, log]);
  });

  it('keeps a lane move the old commits never captured, even when other WPs or features moved', () => {
    const lane = move('planned', 'doing');
    expect(reconcileRewrite([lane], [], commit)).toEqual([lane]);
    expect(reconcileRewrite([lane], [move('planned', 'doing', { wpId: 'WP02' }), move('planned', 'doing', { featureSlug: 'g' })], commit)).toEqual([lane]);
  });

  it('drops a move the old commits already made, along a chain of them', () => {
    expect(reconcileRewrite([move('planned', 'done')], [move('planned', 'doing'), move('doing', 'done')], commit)).toEqual([]);
    // the old commits of a chain of rewrites come newest first
    expect(reconcileRewrite([move('planned', 'done')], [move('doing', 'done'), move('planned', 'doing')], commit)).toEqual([]);
    expect(reconcileRewrite([move('planned', 'done')], [move('doing', 'for_review'), move('planned', 'doing')], commit)).toMatchObject([
      { fromLane: 'for_review', toLane: 'done' },
    ]);
    // a WP moved back and forth: each old move is followed once
    expect(reconcileRewrite([move('planned', 'done')], [move('planned', 'doing'), move('doing', 'planned')], commit)).toEqual([move('planned', 'done')]);
    expect(reconcileRewrite([move(null, 'doing')], [move(null, 'doing')], commit)).toEqual([]);
  });

  it('keeps only the rest of the way when the old commits stopped short, keyed for that rest', () => {
    const rest = reconcileRewrite([move('planned', 'done')], [move('planned', 'doing')], commit);
    expect(rest).toEqual([{ ...move('planned', 'done'), fromLane: 'doing', key: laneChangeKey('f', 'WP01', 'doing', 'done', commit.authorDate) }]);
    expect(reconcileRewrite([move(null, 'done')], [move(null, 'planned')], commit)).toMatchObject([{ fromLane: 'planned', toLane: 'done' }]);
  });
});

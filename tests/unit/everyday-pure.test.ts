import { describe, expect, it } from 'vitest';
import { optionsOf } from '../../src/cli/help-text.js';
import { explain } from '../../src/cli/verify-causes.js';
import { problemLine } from '../../src/hooks/problem.js';
import { boardColumn, boardLanes } from '../../src/workpackage/lanes.js';
import { DEFAULT_MOVE_MESSAGE, moveMessage } from '../../src/workpackage/move-message.js';

describe('problemLine', () => {
  it('is the first warning without its prefix, counting the others; a failure comes first', () => {
    expect(problemLine([], null)).toBeNull();
    expect(problemLine(['kitty: warning: unknown lane "x" in a.md (passed through)'], null)).toBe('unknown lane "x" in a.md (passed through)');
    expect(problemLine(['kitty: warning: one', 'kitty: warning: two', 'kitty: warning: three'], null)).toBe('one (and 2 more)');
    expect(problemLine(['kitty: warning: one'], 'error KITTY_ERR_STATE_DIR: cannot create')).toBe(
      'capture postponed: error KITTY_ERR_STATE_DIR: cannot create (and 1 more)',
    );
  });

  it('stays one short line', () => {
    expect(problemLine([`kitty: warning: a\n\tb ${'x'.repeat(400)}`], null)).toMatch(/^a b x+…$/);
    expect(problemLine([`kitty: warning: ${'x'.repeat(400)}`], null)).toHaveLength(300);
  });
});

describe('moveMessage', () => {
  const facts = { wp: 'WP01', from: 'planned', to: 'doing', feature: '001-demo', note: null };

  it('fills the placeholders and leaves other braces', () => {
    expect(moveMessage(DEFAULT_MOVE_MESSAGE, facts)).toBe('WP01: planned → doing');
    expect(moveMessage('{feature}/{wp} {from}->{to} {other}', { ...facts, from: null })).toBe('001-demo/WP01 no lane->doing {other}');
  });

  it('puts a note the template does not place into the body', () => {
    expect(moveMessage('{wp} to {to}', { ...facts, note: 'ready' })).toBe('WP01 to doing\n\nready');
    expect(moveMessage('{wp}: {note}', { ...facts, note: 'ready' })).toBe('WP01: ready');
  });
});

describe('boardLanes', () => {
  it('is the whole vocabulary in use, then unknown lanes', () => {
    expect(boardLanes([])).toEqual(['planned', 'doing', 'for_review', 'done']);
    expect(boardLanes(['done', 'parked'])).toEqual(['planned', 'doing', 'for_review', 'done', 'parked']);
    expect(boardLanes(['approved'])).toEqual(['planned', 'claimed', 'in_progress', 'for_review', 'in_review', 'approved', 'done', 'blocked', 'canceled']);
  });

  it('shows a lane named in the other vocabulary under its name in the one shown, not as a column of its own', () => {
    const lanes = boardLanes(['doing', 'in_progress', 'parked']);
    expect(lanes).toEqual(['planned', 'claimed', 'in_progress', 'for_review', 'in_review', 'approved', 'done', 'blocked', 'canceled', 'parked']);
    expect(['doing', 'in_progress', 'parked', 'done'].map((lane) => boardColumn(lanes, lane))).toEqual(['in_progress', 'in_progress', 'parked', 'done']);
    expect(boardColumn(boardLanes(['doing']), 'doing')).toBe('doing');
  });
});

describe('explain (sync verify)', () => {
  const missing = { feature: 'f', wp_id: 'WP01', kind: 'missing-on-server', local_lane: 'doing' };
  const move = (state: 'pending' | 'delivered' | 'dead', toLane = 'doing') => ({ feature: 'f', wpId: 'WP01', toLane, state });
  const team = { now: 'beta', before: null };

  it('names the cause the queue shows, and its fix', () => {
    expect(explain(missing, [move('pending')], team)).toEqual({ cause: 'pending', fix: 'kitty sync flush' });
    expect(explain(missing, [move('dead')], team).cause).toBe('dead');
    expect(explain(missing, [move('dead')], team).fix).toContain('kitty sync retry-dead');
    expect(explain(missing, [], team)).toEqual({ cause: 'not-captured', fix: 'kitty derive, then kitty sync flush' });
    expect(explain(missing, [move('pending', 'planned')], team).cause).toBe('not-captured');
    expect(explain({ ...missing, local_lane: 'in_progress' }, [move('pending', 'doing')], team).cause).toBe('pending');
  });

  it('tells a move delivered to another team from one the server lost', () => {
    expect(explain(missing, [move('delivered')], { now: 'beta', before: 'acme' })).toEqual({
      cause: 'other-team',
      fix: 'its move went to team acme and you are in team beta: `kitty auth login` as a user of acme',
    });
    expect(explain(missing, [move('delivered')], { now: 'beta', before: 'beta' }).cause).toBe('server-lost');
    expect(explain({ ...missing, kind: 'unknown-wp', local_lane: null }, [], team).cause).toBe('not-in-tree');
  });
});

describe('optionsOf', () => {
  it('reads the flags under "Options:", short ones too', () => {
    const help =
      'Usage: kitty x [--a]\n\nmentions --not-an-option here\n\nOptions:\n  -m, --message M  the message\n  --json     JSON\n             continued --nope\n  -h, --help show this help';
    expect(optionsOf(help)).toEqual(['-m', '--message', '--json', '-h', '--help']);
    expect(optionsOf('Usage: kitty y')).toEqual([]);
  });
});

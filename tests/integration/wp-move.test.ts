import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { F, hookedRepo, moves, queued } from '../helpers/hooks.js';

const ORIGINAL = [
  '---',
  '# planning notes stay',
  'work_package_id: WP01',
  'title: "Cart API"   # spaced comment',
  'lane: planned',
  'subtasks: [T001, T002]',
  'history:',
  '  - timestamp: "2026-01-01T09:00:00Z"',
  '    lane: planned',
  '    agent: alice',
  'phase: one',
  '---',
  '',
  '# Cart API',
  '',
  'Body text   with  spacing.',
  '',
].join('\n');

describe('kitty wp move', () => {
  it('sets the lane, appends history, keeps every other byte, commits the file alone: one event', () => {
    const repo = hookedRepo();
    repo.commit('plan', { files: { [`${F}/WP01-cart.md`]: ORIGINAL } });
    repo.write('unrelated.txt', 'staged but not part of the move\n');
    repo.git('add', 'unrelated.txt');
    const before = queued(repo).length;
    const result = repo.kitty(['wp', 'move', 'WP01', 'doing', '--note', 'picked up', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ feature: '001-demo', wp_id: 'WP01', from_lane: 'planned', to_lane: 'doing' });
    const text = readFileSync(join(repo.dir, F, 'WP01-cart.md'), 'utf8');
    const entry = /\n {2}- timestamp: (\S+)\n {4}lane: doing\n {4}agent: Ada Tester\n {4}action: picked up\n/.exec(text);
    expect(entry).not.toBeNull();
    expect(text.replace(entry![0], '\n').replace('lane: doing', 'lane: planned')).toBe(ORIGINAL);
    expect(repo.git('show', '--name-only', '--format=%s', 'HEAD').split('\n').filter(Boolean)).toEqual(['WP01: planned → doing', `${F}/WP01-cart.md`]);
    expect(repo.git('diff', '--cached', '--name-only')).toBe('unrelated.txt');
    const events = queued(repo);
    expect(events).toHaveLength(before + 1);
    expect(moves(events).at(-1)).toBe('WP01 planned>doing');
    expect((events.at(-1)!.payload as { source: string; actor: string })).toMatchObject({ source: 'history', actor: 'Ada Tester' });
  });

  it('moves a legacy WP between lane folders', () => {
    const repo = hookedRepo();
    repo.commit('plan', { files: { 'kitty-specs/002-old/tasks/planned/WP03-x.md': '---\ntitle: X\n---\nbody\n' } });
    expect(repo.kitty(['wp', 'move', 'WP03', 'for_review']).code).toBe(0);
    expect(repo.git('ls-files', 'kitty-specs/002-old')).toBe('kitty-specs/002-old/tasks/for_review/WP03-x.md');
    expect(moves(queued(repo)).slice(-1)).toEqual(['WP03 planned>for_review']);
  });

  it('refuses an unknown WP or lane, listing the valid ones, and a dirty WP file', () => {
    const repo = hookedRepo();
    repo.commit('plan', { files: { [`${F}/WP01.md`]: '---\nlane: planned\n---\n' } });
    const lane = repo.kitty(['wp', 'move', 'WP01', 'parked']);
    expect(lane.code).toBe(1);
    expect(lane.stderr).toMatch(/^kitty: error KITTY_ERR_UNKNOWN_LANE: unknown lane "parked"; hint: use one of: planned, doing, for_review, done, claimed/);
    const wp = repo.kitty(['wp', 'move', 'WP07', 'doing']);
    expect(wp.code).toBe(2);
    expect(wp.stderr).toContain('work packages here: 001-demo/WP01');
    repo.write(`${F}/WP01.md`, '---\nlane: planned\n---\nedited\n');
    const dirty = repo.kitty(['wp', 'move', 'WP01', 'doing']);
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toMatch(/KITTY_ERR_WP_DIRTY: kitty-specs\/001-demo\/tasks\/WP01\.md has uncommitted changes; hint: commit or stash/);
    expect(readFileSync(join(repo.dir, F, 'WP01.md'), 'utf8')).toBe('---\nlane: planned\n---\nedited\n');
  });
});

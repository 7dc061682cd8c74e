import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wp } from '../helpers/gitdir.js';
import { F, hookedRepo, moves, queued } from '../helpers/hooks.js';

const LOG = 'kitty-specs/001-demo/status.events.jsonl';
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Lines as the newer tools write them: sorted keys, Python's separators, microseconds. */
const MISSION_LOG = [
  '{"actor": "claude", "at": "2026-01-03T10:11:12.345678+00:00", "event_id": "01JGZ5W3Q0A1B2C3D4E5F6G7H8", "evidence": null, "execution_mode": "worktree", "force": true, "from_lane": "planned", "mission_id": "01KTH57W8EWXDH8TCHNP485YMS", "mission_slug": "001-demo", "policy_metadata": null, "reason": "canonical bootstrap", "review_ref": null, "to_lane": "planned", "wp_id": "WP01"}',
  '{"kind": "annotation", "wp_id": "WP01", "delta": {"note": "looked at it"}}',
  '{"actor": "claude", "at": "2026-01-03T10:12:00.000001+00:00", "event_id": "01JGZ5W3Q0A1B2C3D4E5F6G7H9", "evidence": {"review": {"reviewer": "bob"}}, "execution_mode": "worktree", "force": true, "from_lane": "planned", "mission_id": "01KTH57W8EWXDH8TCHNP485YMS", "mission_slug": "001-demo", "policy_metadata": {"p": 1}, "reason": "took it", "review_ref": "r-1", "to_lane": "in_progress", "wp_id": "WP01"}',
  '',
].join('\n');

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
  it('sets the lane, appends history, keeps every other byte, commits the file alone: one event', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [`${F}/WP01-cart.md`]: ORIGINAL } });
    repo.write('unrelated.txt', 'staged but not part of the move\n');
    repo.git('add', 'unrelated.txt');
    const before = queued(repo).length;
    const result = await repo.run(['wp', 'move', 'WP01', 'doing', '--note', 'picked up', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ feature: '001-demo', wp_id: 'WP01', from_lane: 'planned', to_lane: 'doing', source: 'frontmatter' });
    const text = readFileSync(join(repo.dir, F, 'WP01-cart.md'), 'utf8');
    const entry = /\n {2}- timestamp: (\S+)\n {4}lane: doing\n {4}agent: Ada Tester\n {4}action: picked up\n/.exec(text);
    expect(entry).not.toBeNull();
    expect(text.replace(entry![0], '\n').replace('lane: doing', 'lane: planned')).toBe(ORIGINAL);
    expect(repo.git('show', '--name-only', '--format=%s', 'HEAD').split('\n').filter(Boolean)).toEqual(['WP01: planned → doing', `${F}/WP01-cart.md`]);
    expect(repo.git('diff', '--cached', '--name-only')).toBe('unrelated.txt');
    const events = queued(repo);
    expect(events).toHaveLength(before + 1);
    expect(moves(events).at(-1)).toBe('WP01 planned>doing');
    expect(events.at(-1)!.payload as { source: string; actor: string }).toMatchObject({ source: 'history', actor: 'Ada Tester' });
  });

  it('takes a lane as a person types it: case and - or space do not matter', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [`${F}/WP01.md`]: '---\nlane: planned\n---\n' } });
    expect((await repo.run(['wp', 'move', 'WP01', 'For-Review'])).code).toBe(0);
    expect((await repo.run(['wp', 'move', 'WP01', 'DONE'])).code).toBe(0);
    expect(moves(queued(repo)).slice(-2)).toEqual(['WP01 planned>for_review', 'WP01 for_review>done']);
  });

  it('moves a legacy WP between lane folders', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { 'kitty-specs/002-old/tasks/planned/WP03-x.md': '---\ntitle: X\n---\nbody\n' } });
    expect((await repo.run(['wp', 'move', 'WP03', 'for_review'])).code).toBe(0);
    expect(repo.git('ls-files', 'kitty-specs/002-old')).toBe('kitty-specs/002-old/tasks/for_review/WP03-x.md');
    expect(moves(queued(repo)).slice(-1)).toEqual(['WP03 planned>for_review']);
  });

  it('refuses an unknown WP or lane, listing the valid ones, and a dirty WP file', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [`${F}/WP01.md`]: '---\nlane: planned\n---\n' } });
    const lane = await repo.run(['wp', 'move', 'WP01', 'reviw']);
    expect(lane.code).toBe(1);
    expect(lane.stderr).toMatch(
      /^kitty: error KITTY_ERR_UNKNOWN_LANE: unknown lane "reviw"; hint: did you mean `in_review`\? Lanes: planned, doing, for_review, done, claimed/,
    );
    const wp = await repo.run(['wp', 'move', 'WP07', 'doing']);
    expect(wp.code).toBe(2);
    expect(wp.stderr).toContain('work packages here: 001-demo/WP01');
    repo.write(`${F}/WP01.md`, '---\nlane: planned\n---\nedited\n');
    const dirty = await repo.run(['wp', 'move', 'WP01', 'doing']);
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toMatch(/KITTY_ERR_WP_DIRTY: kitty-specs\/001-demo\/tasks\/WP01\.md has uncommitted changes; hint: commit or stash/);
    expect(readFileSync(join(repo.dir, F, 'WP01.md'), 'utf8')).toBe('---\nlane: planned\n---\nedited\n');
  });
});

describe('kitty wp move in a feature with a status log', () => {
  it('appends one line shaped like the last transition line, leaves the WP file alone, commits the log alone: one event', async () => {
    const stale = wp({ lane: 'planned', title: 'Cart API' });
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [`${F}/WP01-cart.md`]: stale, [LOG]: MISSION_LOG } });
    const before = queued(repo).length;
    const result = await repo.run(['wp', 'move', 'WP01', 'for_review', '--note', 'ready — tests pass', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      feature: '001-demo',
      wp_id: 'WP01',
      from_lane: 'in_progress',
      to_lane: 'for_review',
      path: LOG,
      source: 'status-log',
    });
    const text = readFileSync(join(repo.dir, LOG), 'utf8');
    expect(text.startsWith(MISSION_LOG)).toBe(true);
    const added = text.slice(MISSION_LOG.length);
    expect(added.endsWith('\n')).toBe(true);
    expect(added.trimEnd().split('\n')).toHaveLength(1);
    const line = JSON.parse(added) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(Object.keys(JSON.parse(MISSION_LOG.split('\n')[2]!)));
    expect(line).toMatchObject({
      actor: 'Ada Tester',
      evidence: null,
      execution_mode: 'worktree',
      force: false,
      from_lane: 'in_progress',
      mission_id: '01KTH57W8EWXDH8TCHNP485YMS',
      mission_slug: '001-demo',
      policy_metadata: null,
      reason: 'ready — tests pass',
      review_ref: null,
      to_lane: 'for_review',
      wp_id: 'WP01',
    });
    expect(line.event_id).toMatch(ULID);
    expect(line.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect(Math.abs(Date.parse(line.at as string) - Date.now())).toBeLessThan(60_000);
    expect(added).toMatch(/^\{"actor": "Ada Tester", "at": /);
    expect(added).toContain('"reason": "ready \\u2014 tests pass"');
    expect(readFileSync(join(repo.dir, F, 'WP01-cart.md'), 'utf8')).toBe(stale);
    expect(repo.git('show', '--name-only', '--format=%s', 'HEAD').split('\n').filter(Boolean)).toEqual(['WP01: in_progress → for_review', LOG]);
    expect(repo.git('status', '--porcelain')).toBe('');
    const events = queued(repo);
    expect(events).toHaveLength(before + 1);
    expect(moves(events).at(-1)).toBe('WP01 in_progress>for_review');
    expect(JSON.parse((await repo.run(['board', '--json'])).stdout).features['001-demo'].WP01).toMatchObject({ lane: 'for_review', source: 'status-log' });
  });

  it('continues from the lane the first move wrote, copying a compact line with an actor object and feature_slug', async () => {
    const log = `{"event_id":"01JGZ6A0000000000000000000","wp_id":"WP02","from_lane":"genesis","to_lane":"planned","at":"2026-01-03T10:11:12Z","actor":{"display":"claude","id":"a1","kind":"agent"},"feature_slug":"001-demo","note":"created"}`;
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [`${F}/WP02.md`]: wp({ lane: 'planned' }), [LOG]: log } });
    const first = await repo.run(['wp', 'move', 'WP02', 'doing', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const second = await repo.run(['wp', 'move', 'WP02', 'for_review', '--note', 'done here', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ from_lane: 'doing', to_lane: 'for_review', source: 'status-log' });
    const text = readFileSync(join(repo.dir, LOG), 'utf8');
    expect(text.startsWith(`${log}\n{"event_id":"`)).toBe(true);
    const [, one, two] = text
      .trimEnd()
      .split('\n')
      .map((raw) => JSON.parse(raw) as Record<string, unknown>);
    for (const line of [one!, two!]) {
      expect(Object.keys(line)).toEqual(['event_id', 'wp_id', 'from_lane', 'to_lane', 'at', 'actor', 'feature_slug', 'note']);
      expect(line.actor).toEqual({ display: 'Ada Tester', id: 'ada@example.com', kind: 'human' });
      expect(line.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(line.event_id).toMatch(ULID);
    }
    expect(one).toMatchObject({ wp_id: 'WP02', from_lane: 'planned', to_lane: 'doing', feature_slug: '001-demo', note: null });
    expect(two).toMatchObject({ wp_id: 'WP02', from_lane: 'doing', to_lane: 'for_review', feature_slug: '001-demo', note: 'done here' });
    expect(one!.event_id).not.toBe(two!.event_id);
    expect(text.trimEnd().split('\n').at(-1)).not.toContain(': ');
    expect(moves(queued(repo)).slice(-2)).toEqual(['WP02 planned>doing', 'WP02 doing>for_review']);
    const again = await repo.run(['wp', 'move', 'WP02', 'for_review']);
    expect(again.stdout).toContain('already in for_review; nothing to do');
  });

  it('adds the missing final newline first, warns about a malformed line without failing, and moves a WP only the log knows', async () => {
    const log = [
      'not json at all',
      '{"event_id":"01JGZ6B0000000000000000000","wp_id":"WP05","from_lane":"planned","to_lane":"doing","at":"2026-01-03T10:11:12.345+00:00","actor":"claude","feature_slug":"001-demo"}',
    ].join('\n');
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [LOG]: log } });
    const result = await repo.run(['wp', 'move', 'WP05', 'done']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`skipped ${LOG}:1: not JSON`);
    expect(result.stdout).toMatch(/^kitty: 001-demo\/WP05 doing → done in kitty-specs\/001-demo\/status\.events\.jsonl \(committed [0-9a-f]{7}\)\n$/);
    const text = readFileSync(join(repo.dir, LOG), 'utf8');
    expect(text.startsWith(`${log}\n{"event_id":"`)).toBe(true);
    const line = JSON.parse(text.slice(log.length + 1)) as Record<string, unknown>;
    expect(line).toMatchObject({ wp_id: 'WP05', from_lane: 'doing', to_lane: 'done', actor: 'Ada Tester', feature_slug: '001-demo' });
    expect(line.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/);
    expect(repo.git('show', '--name-only', '--format=', 'HEAD')).toBe(LOG);
  });

  it('refuses a log with uncommitted changes and the pseudo-lane genesis', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }), [LOG]: '' } });
    expect((await repo.run(['wp', 'move', 'WP01', 'genesis'])).stderr).toContain('KITTY_ERR_UNKNOWN_LANE: unknown lane "genesis"');
    repo.write(LOG, '{"note":"edited by hand"}\n');
    const dirty = await repo.run(['wp', 'move', 'WP01', 'doing']);
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toContain(`KITTY_ERR_WP_DIRTY: ${LOG} has uncommitted changes`);
    expect(readFileSync(join(repo.dir, LOG), 'utf8')).toBe('{"note":"edited by hand"}\n');
  });

  it('starts a log that has no transition line yet with the oldest line shape, from the frontmatter lane', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }), [LOG]: '{"event_type": "MissionCreated", "payload": {}}\n' } });
    const result = await repo.run(['wp', 'move', 'WP01', 'doing', '--note', 'nowhere to go', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`the lines of ${LOG} have no field for a note`);
    const line = JSON.parse(readFileSync(join(repo.dir, LOG), 'utf8').split('\n')[1]!) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(['event_id', 'wp_id', 'from_lane', 'to_lane', 'at', 'actor', 'feature_slug']);
    expect(line).toMatchObject({ wp_id: 'WP01', from_lane: 'planned', to_lane: 'doing', actor: 'Ada Tester', feature_slug: '001-demo' });
    expect(repo.git('log', '-1', '--format=%B')).toBe('WP01: planned → doing\n\nnowhere to go');
  });
});

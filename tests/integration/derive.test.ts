import { describe, expect, it } from 'vitest';
import { gitdir, type Repo, wp } from '../helpers/gitdir.js';

const F = 'kitty-specs/001-demo/tasks';

interface Event {
  event_id: string;
  lamport_clock: number;
  timestamp: string;
  payload: {
    wp_id: string;
    feature_slug: string;
    from_lane: string | null;
    to_lane: string;
    actor: string;
    transition_key: string;
    source: string;
    title?: string;
  };
  git: { commit: string };
}

async function dryRun(repo: Repo, ...range: string[]): Promise<Event[]> {
  const result = await repo.run(['derive', ...range, '--dry-run', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Event[];
}

function moves(events: Event[]): string[] {
  return events.map((e) => `${e.payload.feature_slug}/${e.payload.wp_id} ${e.payload.from_lane ?? '-'}>${e.payload.to_lane} ${e.payload.source}`);
}

async function newRepo(): Promise<Repo> {
  const repo = gitdir({ 'README.md': 'demo\n' });
  expect((await repo.run(['init'])).code).toBe(0);
  repo.commit('identity');
  return repo;
}

describe('kitty derive', () => {
  it('carries the WP title for display, cut at 200 characters without splitting one; the id does not depend on it', async () => {
    const repo = await newRepo();
    const long = `${'🐱'.repeat(150)}${'x'.repeat(150)}`;
    repo.commit('add', {
      files: { [`${F}/WP01-a.md`]: wp({ lane: 'planned', title: 'API' }), [`${F}/WP02-b.md`]: wp({ lane: 'planned', title: `"${long}"` }) },
    });
    const before = await dryRun(repo);
    expect(before.map((e) => e.payload.title)).toEqual(['API', `${'🐱'.repeat(150)}${'x'.repeat(49)}…`]);
    expect(before[1]!.payload.title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    repo.commit('retitle', { files: { [`${F}/WP01-a.md`]: wp({ lane: 'planned', title: 'API v2' }) } });
    expect((await dryRun(repo)).map((e) => e.event_id)).toEqual(before.map((e) => e.event_id));
  });

  it('derives a first appearance and a simple move, one event each', async () => {
    const repo = await newRepo();
    repo.commit('add WP01', { files: { [`${F}/WP01-setup.md`]: wp({ lane: 'planned' }) } });
    const moved = repo.commit('start WP01', { files: { [`${F}/WP01-setup.md`]: wp({ lane: '"doing"'.replaceAll('"', '') }) } });
    const events = await dryRun(repo);
    expect(moves(events)).toEqual(['001-demo/WP01 ->planned frontmatter', '001-demo/WP01 planned>doing frontmatter']);
    expect(events[1]!.git.commit).toBe(moved);
    expect(events[1]!.payload.actor).toBe('Ada Tester');
    expect(events.map((e) => e.lamport_clock)).toEqual([1, 2]);
  });

  it('reads quoted lanes the same as plain ones', async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned', quoted: true }) } });
    repo.commit('move', { files: { [`${F}/WP01.md`]: wp({ lane: 'for_review', quoted: true }) } });
    expect(moves(await dryRun(repo))).toEqual(['001-demo/WP01 ->planned frontmatter', '001-demo/WP01 planned>for_review frontmatter']);
  });

  it('derives one event per hop of a three-hop history in one commit, in order', async () => {
    const repo = await newRepo();
    const h0 = { timestamp: '2026-01-01T09:00:00Z', lane: 'planned', agent: 'alice' };
    repo.commit('add', { files: { [`${F}/WP02-api.md`]: wp({ lane: 'planned', history: [h0] }) } });
    const history = [
      h0,
      { timestamp: '2026-01-02T09:00:00Z', lane: 'doing', agent: 'bob' },
      { timestamp: '2026-01-02T10:00:00Z', lane: 'for_review', agent: 'bob' },
      { timestamp: '2026-01-02T11:00:00Z', lane: 'done', agent: 'carol' },
    ];
    repo.commit('three hops', { files: { [`${F}/WP02-api.md`]: wp({ lane: 'done', history }) } });
    const events = await dryRun(repo);
    expect(moves(events)).toEqual([
      '001-demo/WP02 ->planned history',
      '001-demo/WP02 planned>doing history',
      '001-demo/WP02 doing>for_review history',
      '001-demo/WP02 for_review>done history',
    ]);
    expect(events.slice(1).map((e) => [e.timestamp, e.payload.actor])).toEqual([
      ['2026-01-02T09:00:00Z', 'bob'],
      ['2026-01-02T10:00:00Z', 'bob'],
      ['2026-01-02T11:00:00Z', 'carol'],
    ]);
    expect(events.at(-1)!.payload.to_lane).toBe('done');
  });

  it('adds a final hop when the lane moved past the last history entry', async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { [`${F}/WP03.md`]: wp({ lane: 'planned' }) } });
    repo.commit('move', {
      files: { [`${F}/WP03.md`]: wp({ lane: 'done', history: [{ timestamp: '2026-02-01T00:00:00Z', lane: 'doing' }] }) },
    });
    expect(moves(await dryRun(repo)).slice(1)).toEqual(['001-demo/WP03 planned>doing history', '001-demo/WP03 doing>done frontmatter']);
  });

  it('treats a move between legacy lane folders as a transition', async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { [`${F}/planned/WP04-legacy.md`]: wp({}) } });
    repo.write(`${F}/doing/WP04-legacy.md`, wp({}));
    repo.git('rm', '-q', `${F}/planned/WP04-legacy.md`);
    repo.commit('move to doing');
    expect(moves(await dryRun(repo))).toEqual(['001-demo/WP04 ->planned frontmatter', '001-demo/WP04 planned>doing frontmatter']);
  });

  it('derives status.events.jsonl transition lines, skips other kinds and reports bad lines with file:line', async () => {
    const repo = await newRepo();
    const log = 'kitty-specs/002-status/status.events.jsonl';
    const line1 = {
      event_id: '01JAAAAAAAAAAAAAAAAAAAAAAA',
      wp_id: 'WP01',
      from_lane: 'planned',
      to_lane: 'claimed',
      at: '2026-03-01T10:00:00+00:00',
      actor: 'claude',
      feature_slug: '002-status',
    };
    repo.commit('log 1', { files: { [log]: `${JSON.stringify({ event_type: 'MissionCreated', payload: {} })}\n${JSON.stringify(line1)}\n` } });
    const line2 = {
      event_id: '01JBBBBBBBBBBBBBBBBBBBBBBB',
      wp_id: 'WP01',
      from_lane: 'claimed',
      to_lane: 'in_progress',
      at: '2026-03-01T11:00:00Z',
      actor: { display: 'Claude', id: 'c1', kind: 'agent' },
      mission_slug: '002-status',
    };
    const annotation = { kind: 'annotation', delta: { note: 'hi' } };
    repo.commit('log 2', {
      files: {
        [log]: `${JSON.stringify({ event_type: 'MissionCreated', payload: {} })}\n${JSON.stringify(line1)}\n${JSON.stringify(annotation)}\n{not json\n${JSON.stringify(line2)}\n`,
      },
    });
    const result = await repo.run(['derive', '--dry-run', '--json']);
    expect(result.code).toBe(0);
    const events = JSON.parse(result.stdout) as Event[];
    expect(moves(events)).toEqual(['002-status/WP01 planned>claimed status-log', '002-status/WP01 claimed>in_progress status-log']);
    expect(events[0]!.payload.transition_key).toBe(line1.event_id);
    expect(events[0]!.timestamp).toBe('2026-03-01T10:00:00Z');
    expect(events[1]!.payload.actor).toBe('Claude');
    expect(result.stderr).toMatch(/status\.events\.jsonl@[0-9a-f]{7}:4: not JSON/);
    expect(result.stderr.match(/warning/g)).toHaveLength(1);
  });

  it('keeps the event_id of an amended commit', async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    repo.commit('move', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    const before = await dryRun(repo);
    repo.git('commit', '-q', '--amend', '-m', 'move WP01 (reworded)');
    const after = await dryRun(repo);
    expect(after.map((e) => e.event_id)).toEqual(before.map((e) => e.event_id));
    expect(after[1]!.git.commit).not.toBe(before[1]!.git.commit);
  });

  it('keeps the event_id of a cherry-picked commit', async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    repo.git('checkout', '-q', '-b', 'feature');
    const picked = repo.commit('move', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    const onFeature = await dryRun(repo);
    repo.git('checkout', '-q', 'main');
    repo.commit('unrelated work on main', { files: { 'notes.txt': 'x\n' } });
    repo.git('cherry-pick', picked);
    const onMain = await dryRun(repo);
    expect(onMain[1]!.git.commit).not.toBe(picked);
    expect(onMain.map((e) => e.event_id)).toEqual(onFeature.map((e) => e.event_id));
  });

  it("does not re-derive a branch's transitions from a merge commit's first-parent diff", async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }), [`${F}/WP02.md`]: wp({ lane: 'planned' }) } });
    repo.git('checkout', '-q', '-b', 'teammate');
    repo.commit('teammate moves WP01', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    repo.git('checkout', '-q', 'main');
    repo.commit('I move WP02', { files: { [`${F}/WP02.md`]: wp({ lane: 'for_review' }) } });
    repo.git('merge', '-q', '--no-ff', '-m', 'merge teammate', 'teammate');
    const merge = repo.git('rev-parse', 'HEAD');
    const events = await dryRun(repo);
    expect(events.filter((e) => e.git.commit === merge)).toEqual([]);
    expect(moves(events).filter((m) => !m.includes('->'))).toEqual(
      expect.arrayContaining(['001-demo/WP01 planned>doing frontmatter', '001-demo/WP02 planned>for_review frontmatter']),
    );
    expect(events).toHaveLength(4);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(4);
  });

  it("derives a merge's own conflict resolution", async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    repo.git('checkout', '-q', '-b', 'other');
    repo.commit('to doing', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    repo.git('checkout', '-q', 'main');
    repo.commit('to blocked', { files: { [`${F}/WP01.md`]: wp({ lane: 'blocked' }) } });
    expect(() => repo.git('merge', '-q', 'other')).toThrow();
    repo.write(`${F}/WP01.md`, wp({ lane: 'for_review' }));
    repo.git('add', '-A');
    repo.git('commit', '-q', '--no-edit');
    const merge = repo.git('rev-parse', 'HEAD');
    expect(moves((await dryRun(repo)).filter((e) => e.git.commit === merge))).toEqual(['001-demo/WP01 blocked>for_review frontmatter']);
  });

  it('warns about an unknown lane, names file and value, and passes it through; --strict refuses it', async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { [`${F}/WP01-x.md`]: wp({ lane: 'planned' }) } });
    repo.commit('odd', { files: { [`${F}/WP01-x.md`]: wp({ lane: 'parked' }) } });
    const result = await repo.run(['derive', '--dry-run', '--json']);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as Event[]).at(-1)!.payload.to_lane).toBe('parked');
    expect(result.stderr).toContain(`unknown lane "parked" in ${F}/WP01-x.md`);
    const strict = await repo.run(['derive', '--dry-run', '--json', '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe('');
    expect(strict.stderr).toMatch(/^kitty: error KITTY_ERR_UNKNOWN_LANE: unknown lane "parked"/);
  });

  it('keeps WP ids of different features apart', async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { 'kitty-specs/a/tasks/WP01.md': wp({ lane: 'planned' }), 'kitty-specs/b/tasks/WP01.md': wp({ lane: 'planned' }) } });
    repo.commit('move both', { files: { 'kitty-specs/a/tasks/WP01.md': wp({ lane: 'doing' }), 'kitty-specs/b/tasks/WP01.md': wp({ lane: 'doing' }) } });
    const events = await dryRun(repo);
    expect(events).toHaveLength(4);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(4);
  });

  it('derives a revert as a new transition back', async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    const move = repo.commit('move', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    repo.git('revert', '--no-edit', move);
    expect(moves(await dryRun(repo)).slice(1)).toEqual(['001-demo/WP01 planned>doing frontmatter', '001-demo/WP01 doing>planned frontmatter']);
  });

  it('reports a malformed WP file with file and line, skips it, and --strict stops on it', async () => {
    const repo = await newRepo();
    repo.commit('bad', { files: { [`${F}/WP09.md`]: '---\nlane: planned\nhistory: [\n---\nbody\n' } });
    repo.commit('ok', { files: { [`${F}/WP08.md`]: wp({ lane: 'planned' }) } });
    const result = await repo.run(['derive', '--dry-run', '--json']);
    expect(result.code).toBe(0);
    expect(moves(JSON.parse(result.stdout) as Event[])).toEqual(['001-demo/WP08 ->planned frontmatter']);
    expect(result.stderr).toMatch(/malformed YAML frontmatter in kitty-specs\/001-demo\/tasks\/WP09\.md@[0-9a-f]{7}:\d+/);
    const strict = await repo.run(['derive', '--dry-run', '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('KITTY_ERR_WP_MALFORMED');
  });

  it('queues each transition once, however often derive runs', async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    repo.commit('move', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    const first = await repo.run(['derive', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ queued: 2, already_queued: 0 });
    const second = await repo.run(['derive', '--json']);
    expect(JSON.parse(second.stdout)).toMatchObject({ queued: 0, already_queued: 2 });
    const listed = JSON.parse((await repo.run(['events', 'list', '--json'])).stdout) as Event[];
    expect(listed).toHaveLength(2);
    expect(listed.map((e) => e.lamport_clock)).toEqual([1, 2]);
    expect((await repo.run(['derive', '--dry-run', '--json'])).stdout.trim()).toBe('[]');
  });
});

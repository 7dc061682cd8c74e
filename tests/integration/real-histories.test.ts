import { describe, expect, it } from 'vitest';
import { gitdir, type Repo, wp } from '../helpers/gitdir.js';

// Patterns seen in real repositories that plan work in kitty-specs/: each test builds the pattern
// by hand and asserts the exact events, so a rule that breaks shows which pattern it broke.

const FEATURE = '055-search';
const TASKS = `kitty-specs/${FEATURE}/tasks`;
const LOG = `kitty-specs/${FEATURE}/status.events.jsonl`;

interface Event {
  event_id: string;
  timestamp: string;
  payload: { wp_id: string; feature_slug: string; from_lane: string | null; to_lane: string; source: string };
}

interface Line {
  event_id?: string;
  wp_id: string;
  from_lane: string | null;
  to_lane: string;
  at: string;
  actor?: unknown;
  [key: string]: unknown;
}

const ULIDS = [
  '01KA0000000000000000000001',
  '01KA0000000000000000000002',
  '01KA0000000000000000000003',
  '01KA0000000000000000000004',
  '01KA0000000000000000000005',
];

function jsonl(lines: readonly object[]): string {
  return lines.map((line) => `${JSON.stringify(line)}\n`).join('');
}

async function newRepo(): Promise<Repo> {
  const repo = gitdir({ 'README.md': 'demo\n' });
  expect((await repo.run(['init'])).code).toBe(0);
  repo.commit('identity');
  return repo;
}

async function dryRun(repo: Repo, ...range: string[]): Promise<Event[]> {
  const result = await repo.run(['derive', ...range, '--dry-run', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Event[];
}

async function derive(repo: Repo): Promise<{ queued: number; already_queued: number; aliases: number; same_lane_lines: number }> {
  const result = await repo.run(['derive', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

function moves(events: readonly Event[]): string[] {
  return events.map((e) => `${e.payload.feature_slug}/${e.payload.wp_id} ${e.payload.from_lane ?? '-'}>${e.payload.to_lane} ${e.timestamp}`);
}

/** A log-era feature with three moves of WP01, one line per commit. */
function logEra(repo: Repo): Line[] {
  const lines: Line[] = [
    {
      event_id: ULIDS[0],
      wp_id: 'WP01',
      from_lane: 'genesis',
      to_lane: 'planned',
      at: '2026-02-01T10:00:00.123+00:00',
      actor: 'claude',
      feature_slug: FEATURE,
    },
    {
      event_id: ULIDS[1],
      wp_id: 'WP01',
      from_lane: 'planned',
      to_lane: 'in_progress',
      at: '2026-02-02T10:00:00.456+00:00',
      actor: { display: 'claude', id: 'a1', kind: 'agent' },
      mission_slug: FEATURE,
    },
    { event_id: ULIDS[2], wp_id: 'WP01', from_lane: 'in_progress', to_lane: 'for_review', at: '2026-02-03T10:00:00Z', actor: 'claude', mission_slug: FEATURE },
  ];
  repo.commit('create WP01', { files: { [`${TASKS}/WP01-index.md`]: wp({ lane: 'planned' }), [LOG]: jsonl(lines.slice(0, 1)) } });
  repo.commit('start WP01', { files: { [LOG]: jsonl(lines.slice(0, 2)) } });
  repo.commit('review WP01', { files: { [LOG]: jsonl(lines) } });
  return lines;
}

describe('exactly once on real histories', () => {
  it("a status line's own ULID is the event id; genesis is the creation", async () => {
    const repo = await newRepo();
    logEra(repo);
    const events = await dryRun(repo);
    expect(events.map((e) => e.event_id)).toEqual(ULIDS.slice(0, 3));
    expect(moves(events)).toEqual([
      `${FEATURE}/WP01 ->planned 2026-02-01T10:00:00.123Z`,
      `${FEATURE}/WP01 planned>in_progress 2026-02-02T10:00:00.456Z`,
      `${FEATURE}/WP01 in_progress>for_review 2026-02-03T10:00:00Z`,
    ]);
  });

  it('re-keyed status lines (new ids, same moves) are aliases: nothing new, before or after a real run', async () => {
    const repo = await newRepo();
    const lines = logEra(repo);
    expect((await derive(repo)).queued).toBe(3);
    const rekeyed = lines.map((line, i) => ({ ...line, event_id: `${'ab12'.repeat(10)}${i}` }));
    repo.commit('migrate status log', { files: { [LOG]: jsonl([...rekeyed, { kind: 'annotation', wp_id: 'WP01', delta: { note: 'migrated' } }]) } });
    expect(await dryRun(repo)).toEqual([]);
    expect(await derive(repo)).toMatchObject({ queued: 0, aliases: 3 });
    // the migration commit alone, seen by a machine that captured nothing before: the removed
    // lines say the same moves, so it is no new move either
    const alone = await repo.run(['derive', 'HEAD~1..HEAD', '--dry-run', '--json'], { env: { KITTY_HOME: `${repo.home}-alone` } });
    expect(JSON.parse(alone.stdout)).toEqual([]);
    // a fresh state dir walking the whole history decides the same: three events, the first ids
    const fresh = await repo.run(['derive', '--dry-run', '--json'], { env: { KITTY_HOME: `${repo.home}-fresh` } });
    expect((JSON.parse(fresh.stdout) as Event[]).map((e) => e.event_id)).toEqual(ULIDS.slice(0, 3));
  });

  it('a backfilled log restating the frontmatter history is no new move; the next real line is', async () => {
    const repo = await newRepo();
    const h = [
      { timestamp: '2026-01-01T09:00:00Z', lane: 'planned' },
      { timestamp: '2026-01-02T09:00:00Z', lane: 'for_review' },
      { timestamp: '2026-01-03T09:00:00Z', lane: 'done' },
    ];
    repo.commit('add', { files: { [`${TASKS}/WP02-a.md`]: wp({ lane: 'planned', history: h.slice(0, 1) }) } });
    repo.commit('review', { files: { [`${TASKS}/WP02-a.md`]: wp({ lane: 'for_review', history: h.slice(0, 2) }) } });
    repo.commit('done', { files: { [`${TASKS}/WP02-a.md`]: wp({ lane: 'done', history: h }) } });
    const backfill = [
      { event_id: ULIDS[0], wp_id: 'WP02', from_lane: 'genesis', to_lane: 'planned', at: '2026-01-01T09:00:00+00:00' },
      // compressed: one line for planned → for_review → done
      { event_id: ULIDS[1], wp_id: 'WP02', from_lane: 'planned', to_lane: 'done', at: '2026-01-03T09:00:00+00:00' },
    ];
    repo.commit('backfill status log', { files: { [LOG]: jsonl(backfill) } });
    const reopened = { event_id: ULIDS[2], wp_id: 'WP02', from_lane: 'done', to_lane: 'in_progress', at: '2026-01-05T09:00:00+00:00' };
    repo.commit('reopen', { files: { [LOG]: jsonl([...backfill, reopened]) } });
    const events = await dryRun(repo);
    expect(moves(events)).toEqual([
      `${FEATURE}/WP02 ->planned 2026-01-01T09:00:00Z`,
      `${FEATURE}/WP02 planned>for_review 2026-01-02T09:00:00Z`,
      `${FEATURE}/WP02 for_review>done 2026-01-03T09:00:00Z`,
      `${FEATURE}/WP02 done>in_progress 2026-01-05T09:00:00Z`,
    ]);
    expect(events[3]!.event_id).toBe(ULIDS[2]);
  });

  it('in the log era, frontmatter edits are no moves: a stale lane, a materialize step, doing renamed in_progress', async () => {
    const repo = await newRepo();
    logEra(repo);
    repo.commit('materialize', {
      files: { [`${TASKS}/WP01-index.md`]: wp({ lane: 'for_review', history: [{ timestamp: '2026-02-03T10:00:00Z', lane: 'for_review' }] }) },
    });
    repo.commit('other vocabulary', { files: { [`${TASKS}/WP01-index.md`]: wp({ lane: 'in_review' }) } });
    expect(await dryRun(repo)).toHaveLength(3);
  });

  it('in the log era a tracked WP file is not read: broken or with an unknown lane, it neither warns nor moves; an untracked one still warns', async () => {
    const repo = await newRepo();
    logEra(repo);
    repo.commit('mangle', {
      files: {
        [`${TASKS}/WP01-index.md`]: '---\nlane: [unclosed\nhistory: {\n---\n',
        [`${TASKS}/WP02-other.md`]: '---\nlane: [unclosed\n---\n',
      },
    });
    repo.commit('odd lane', { files: { [`${TASKS}/WP01-index.md`]: wp({ lane: 'parked' }) } });
    const result = await repo.run(['derive', '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as Event[]).map((e) => e.event_id)).toEqual(ULIDS.slice(0, 3));
    expect(result.stderr).toContain('WP02-other.md');
    expect(result.stderr).not.toContain('WP01-index.md');
    expect(result.stderr).not.toContain('parked');
  });

  it('renaming doing to in_progress in the frontmatter is no move', async () => {
    const repo = await newRepo();
    repo.commit('add', { files: { [`${TASKS}/WP03.md`]: wp({ lane: 'planned' }) } });
    repo.commit('start', { files: { [`${TASKS}/WP03.md`]: wp({ lane: 'doing' }) } });
    repo.commit('new vocabulary', { files: { [`${TASKS}/WP03.md`]: wp({ lane: 'in_progress' }) } });
    expect(moves(await dryRun(repo)).map((m) => m.split(' ')[1])).toEqual(['->planned', 'planned>doing']);
  });

  it('the first from == to line creates a WP; a later one is no move, counted in one summary line', async () => {
    const repo = await newRepo();
    const lines = [
      { event_id: ULIDS[0], wp_id: 'WP04', from_lane: 'planned', to_lane: 'planned', at: '2026-03-01T00:00:00Z' },
      { event_id: ULIDS[1], wp_id: 'WP04', from_lane: 'planned', to_lane: 'claimed', at: '2026-03-02T00:00:00Z' },
      { event_id: ULIDS[2], wp_id: 'WP04', from_lane: 'claimed', to_lane: 'claimed', at: '2026-03-03T00:00:00Z' },
    ];
    repo.commit('log', { files: { [`${TASKS}/WP04.md`]: wp({ lane: 'planned' }), [LOG]: jsonl(lines) } });
    const result = await repo.run(['derive', '--dry-run']);
    expect(result.stdout).toContain(`${ULIDS[0]}  ${FEATURE}/WP04  ∅ → planned`);
    expect(result.stdout).toContain('planned → claimed');
    expect(result.stdout).not.toContain(ULIDS[2]);
    expect(result.stderr).toMatch(/1 status line with from == to skipped/);
    expect(await derive(repo)).toMatchObject({ queued: 2, same_lane_lines: 1 });
  });

  it('a WP copied into another lane folder moves from where it was (the copy is deleted later: no move)', async () => {
    const repo = await newRepo();
    const h0 = { timestamp: '2025-11-06T00:00:00Z', lane: 'planned' };
    const h1 = { timestamp: '2025-11-06T15:35:00Z', lane: 'doing' };
    repo.commit('add', { files: { [`${TASKS}/planned/WP05-mail.md`]: wp({ lane: 'planned', history: [h0] }) } });
    repo.git('mv', `${TASKS}/planned`, `${TASKS}/doing`);
    repo.commit('start', { files: { [`${TASKS}/doing/WP05-mail.md`]: wp({ lane: 'doing', history: [h0, h1] }) } });
    repo.git('mv', `${TASKS}/doing`, `${TASKS}/for_review`);
    repo.commit('review', { date: '2025-11-07T05:50:41Z' });
    // copied to done while the for_review copy stays (as a real project did), deleted a commit later
    repo.commit('approve', { date: '2025-11-07T06:00:06Z', files: { [`${TASKS}/done/WP05-mail.md`]: wp({ lane: 'done', history: [h0, h1] }) } });
    repo.git('rm', '-q', `${TASKS}/for_review/WP05-mail.md`);
    repo.commit('remove the old copy');
    expect(moves(await dryRun(repo))).toEqual([
      `${FEATURE}/WP05 ->planned 2025-11-06T00:00:00Z`,
      `${FEATURE}/WP05 planned>doing 2025-11-06T15:35:00Z`,
      `${FEATURE}/WP05 doing>for_review 2025-11-07T05:50:41Z`,
      `${FEATURE}/WP05 for_review>done 2025-11-07T06:00:06Z`,
    ]);
  });

  it('flattening lane folders and renaming a feature folder are no moves; later moves carry the new name', async () => {
    const repo = await newRepo();
    const h = [
      { timestamp: '2026-01-01T00:00:00Z', lane: 'planned' },
      { timestamp: '2026-01-02T00:00:00Z', lane: 'doing' },
    ];
    repo.commit('add', { files: { [`${TASKS}/planned/WP06-x.md`]: wp({ lane: 'planned', history: h.slice(0, 1) }) } });
    repo.git('mv', `${TASKS}/planned`, `${TASKS}/doing`);
    repo.commit('start', { files: { [`${TASKS}/doing/WP06-x.md`]: wp({ lane: 'doing', history: h }) } });
    repo.git('mv', `${TASKS}/doing/WP06-x.md`, `${TASKS}/WP06-x.md`);
    repo.commit('flatten tasks/');
    const lines = [{ event_id: ULIDS[0], wp_id: 'WP06', from_lane: 'planned', to_lane: 'doing', at: '2026-01-02T00:00:00Z' }];
    repo.commit('backfill', { files: { [LOG]: jsonl(lines) } });
    repo.git('mv', `kitty-specs/${FEATURE}`, 'kitty-specs/search-01KQ48XA');
    repo.commit('rename feature');
    const renameAlone = await repo.run(['derive', 'HEAD~1..HEAD', '--dry-run', '--json'], { env: { KITTY_HOME: `${repo.home}-alone` } });
    expect(JSON.parse(renameAlone.stdout)).toEqual([]);
    const next = { event_id: ULIDS[1], wp_id: 'WP06', from_lane: 'doing', to_lane: 'for_review', at: '2026-01-04T00:00:00Z' };
    repo.commit('review', { files: { 'kitty-specs/search-01KQ48XA/status.events.jsonl': jsonl([...lines, next]) } });
    // a migration re-keys the renamed feature's log: still nothing new
    repo.commit('rekey', {
      files: {
        'kitty-specs/search-01KQ48XA/status.events.jsonl': jsonl([
          { ...lines[0]!, event_id: 'h1' },
          { ...next, event_id: 'h2' },
        ]),
      },
    });
    expect(moves(await dryRun(repo))).toEqual([
      `${FEATURE}/WP06 ->planned 2026-01-01T00:00:00Z`,
      `${FEATURE}/WP06 planned>doing 2026-01-02T00:00:00Z`,
      'search-01KQ48XA/WP06 doing>for_review 2026-01-04T00:00:00Z',
    ]);
  });

  it('reads a 50 MB status line as the one move it is, next to a 50 MB annotation', async () => {
    const repo = await newRepo();
    const huge = { kind: 'annotation', wp_id: 'WP01', delta: { blob: 'x'.repeat(50 * 1024 * 1024) } };
    const move = {
      event_id: ULIDS[0],
      wp_id: 'WP01',
      from_lane: 'genesis',
      to_lane: 'planned',
      at: '2026-02-01T10:00:00Z',
      evidence: 'y'.repeat(50 * 1024 * 1024),
    };
    repo.commit('log', { files: { [LOG]: jsonl([huge, move]) } });
    const result = await repo.run(['derive', '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as Event[]).map((e) => e.event_id)).toEqual([ULIDS[0]]);
  });

  it('skips a WP file over 8 MiB with a warning naming it, and derives the others', async () => {
    const repo = await newRepo();
    repo.commit('plan', {
      files: { [`${TASKS}/WP07-big.md`]: wp({ lane: 'planned', body: 'z'.repeat(9 * 1024 * 1024) }), [`${TASKS}/WP08-small.md`]: wp({ lane: 'planned' }) },
    });
    const result = await repo.run(['derive', '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`KITTY_ERR_WP_TOO_LARGE: ${TASKS}/WP07-big.md@[0-9a-f]{7} is 94\\d{5} bytes, over the 8 MiB limit \\(skipped\\)`));
    expect(moves(JSON.parse(result.stdout) as Event[]).map((m) => m.split(' ')[0])).toEqual([`${FEATURE}/WP08`]);
  });

  it('keeps an event over the 64 KiB limit dead with the reason, and says so once', async () => {
    const repo = await newRepo();
    const line = { event_id: ULIDS[0], wp_id: 'WP01', from_lane: 'genesis', to_lane: 'planned', at: '2026-02-01T10:00:00Z', actor: 'a'.repeat(70_000) };
    repo.commit('log', { files: { [LOG]: jsonl([line]) } });
    const result = await repo.run(['derive']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`kitty: warning: event ${ULIDS[0]} kept dead, never sent:`);
    const dead = JSON.parse((await repo.run(['events', 'list', '--state', 'dead', '--json'])).stdout) as { event_id: string }[];
    expect(dead.map((e) => e.event_id)).toEqual([ULIDS[0]]);
  });
});

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runKittyHere, tempDir, testEnv } from '../helpers/gitdir.js';

// The kitty-specs/ history of a public project (96 commits, legacy lane folders, WP files copied
// between lane folders and deleted later, moves back to planned, history entries that reappear).
const BUNDLE = join(ROOT, 'tests', 'fixtures', 'readzone-kitty-specs.bundle');

interface Event {
  event_id: string;
  timestamp: string;
  payload: { wp_id: string; feature_slug: string; from_lane: string | null; to_lane: string };
}

function clone(source: string): string {
  const dir = join(tempDir('kitty-corpus-'), 'readzone');
  execFileSync('git', ['clone', '-q', source, dir]);
  return dir;
}

async function derived(dir: string, home: string): Promise<Event[]> {
  const result = await runKittyHere(['derive', '--dry-run', '--json'], dir, testEnv(home));
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Event[];
}

/** Each WP's lane in the last tree that still had the specs (the last commit deletes them). */
function finalLanes(dir: string): Map<string, string[]> {
  const files = execFileSync('git', ['ls-tree', '-r', '--name-only', 'HEAD^', 'kitty-specs'], { cwd: dir, encoding: 'utf8' }).split('\n');
  const lanes = new Map<string, string[]>();
  for (const file of files) {
    const match = /^kitty-specs\/([^/]+)\/tasks\/([^/]+)\/(WP\d+)/.exec(file);
    if (match) lanes.set(`${match[1]}/${match[3]}`, [...(lanes.get(`${match[1]}/${match[3]}`) ?? []), match[2]!]);
  }
  return lanes;
}

describe("a real repository's history", () => {
  it('derives every transition once: chains that hold, the lanes the tree ends with, the same ids from two clones', async () => {
    const origin = clone(BUNDLE);
    const lanes = finalLanes(origin);
    const home = tempDir('kitty-home-');
    expect((await runKittyHere(['init'], origin, testEnv(home))).code).toBe(0);
    execFileSync('git', ['add', '.kittify'], { cwd: origin });
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'kitty identity'], { cwd: origin });

    const events = await derived(origin, home);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    const natural = events.map((e) => `${e.payload.feature_slug}/${e.payload.wp_id}|${e.payload.from_lane}|${e.payload.to_lane}|${e.timestamp}`);
    expect(new Set(natural).size).toBe(events.length);

    const byWp = new Map<string, Event[]>();
    for (const event of events)
      byWp.set(`${event.payload.feature_slug}/${event.payload.wp_id}`, [...(byWp.get(`${event.payload.feature_slug}/${event.payload.wp_id}`) ?? []), event]);
    for (const [wp, moves] of byWp) {
      expect(moves[0]!.payload.from_lane, wp).toBeNull();
      for (const [i, move] of moves.slice(1).entries()) expect(move.payload.from_lane, `${wp} move ${i + 1}`).toBe(moves[i]!.payload.to_lane);
    }
    expect([...byWp.keys()].sort()).toEqual([...lanes.keys()].sort());
    for (const [wp, folders] of lanes) expect(folders, wp).toContain(byWp.get(wp)!.at(-1)!.payload.to_lane);
    // a WP copied into done/ while its for_review/ copy stayed: reviewed, then done, never doing → done
    expect(byWp.get('001-feature/WP05')!.map((e) => `${e.payload.from_lane}>${e.payload.to_lane}`)).toEqual([
      'null>planned',
      'planned>doing',
      'doing>for_review',
      'for_review>done',
    ]);
    console.log(`readzone: ${events.length} transitions of ${byWp.size} work packages`);

    const [a, b] = [clone(origin), clone(origin)];
    expect((await derived(a, tempDir('kitty-home-'))).map((e) => e.event_id)).toEqual(events.map((e) => e.event_id));
    expect((await derived(b, tempDir('kitty-home-'))).map((e) => e.event_id)).toEqual(events.map((e) => e.event_id));
  });

  it('queues them once, however often derive runs', async () => {
    const dir = clone(BUNDLE);
    const env = testEnv(tempDir('kitty-home-'));
    // before the project has an identity: the dry run prints exactly what the first real run queues
    const dry = (JSON.parse((await runKittyHere(['derive', '--dry-run', '--json'], dir, env)).stdout) as Event[]).map((e) => e.event_id);
    const first = JSON.parse((await runKittyHere(['derive', '--json'], dir, env)).stdout) as { queued: number };
    const queued = (JSON.parse((await runKittyHere(['events', 'list', '--state', 'all', '--json'], dir, env)).stdout) as Event[]).map((e) => e.event_id);
    expect(queued).toEqual(dry);
    expect(first.queued).toBeGreaterThan(100);
    expect(JSON.parse((await runKittyHere(['derive', '--json'], dir, env)).stdout)).toMatchObject({ queued: 0, already_queued: first.queued });
    expect(JSON.parse((await runKittyHere(['derive', '--dry-run', '--json'], dir, env)).stdout)).toEqual([]);
  });
});

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateHistory, type TruthTransition } from '../../bench/history.mjs';
import { ROOT, runKittyHere, tempDir, testEnv } from '../helpers/gitdir.js';

// Histories generated with every pattern real repositories show (re-keyed and backfilled logs,
// the log era with stale frontmatter, creation lines, lane-folder copies, flattened tasks/,
// renamed features, materialize steps, long histories), checked against what really moved.

interface Event {
  event_id: string;
  timestamp: string;
  payload: { wp_id: string; feature_slug: string; from_lane: string | null; to_lane: string };
}

async function generated(seed: number, commits = 300): Promise<{ dir: string; truth: TruthTransition[]; shas: string[] }> {
  const dir = join(tempDir('kitty-gen-'), 'repo');
  const history = generateHistory(dir, { seed, commits });
  // the project's identity is committed, as a team does, so every clone stamps the same uuid
  expect((await runKittyHere(['init'], dir, testEnv(tempDir('kitty-home-')))).code).toBe(0);
  execFileSync('git', ['add', '.kittify'], { cwd: dir });
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'kitty identity'], { cwd: dir });
  return { dir, truth: history.truth, shas: history.commits.map((commit) => commit.sha) };
}

async function dryRun(dir: string, home: string, ...range: string[]): Promise<Event[]> {
  const result = await runKittyHere(['derive', ...range, '--dry-run', '--json'], dir, testEnv(home));
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Event[];
}

const said = (e: Event): string => `${e.payload.feature_slug}/${e.payload.wp_id} ${e.payload.from_lane ?? '-'}>${e.payload.to_lane} ${e.timestamp}`;
const happened = (t: TruthTransition): string => `${t.feature}/${t.wp} ${t.from ?? '-'}>${t.to} ${t.at}`;

describe('generated real-world histories', () => {
  for (const seed of [1, 4, 7]) {
    it(`seed ${seed}: exactly the transitions that happened, each once, with the status lines' own ids`, async () => {
      const { dir, truth } = await generated(seed);
      const events = await dryRun(dir, tempDir('kitty-home-'));
      expect(events.map(said).sort()).toEqual(truth.map(happened).sort());
      expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
      const ids = new Map(events.map((e) => [said(e), e.event_id]));
      for (const t of truth.filter((t) => t.eventId)) expect(ids.get(happened(t)), happened(t)).toBe(t.eventId);
    });
  }

  it("reading git's output in a worker thread (as derive does on a large store) gives the same events", async () => {
    const { dir, truth } = await generated(7);
    // the worker thread starts from the built file next to the reader, so this runs the build in-process
    const { captureRange } = (await import(join(ROOT, 'dist', 'capture', 'index.js'))) as typeof import('../../src/capture/index.js');
    const events: Event[] = [];
    await captureRange({
      cwd: dir,
      env: testEnv(tempDir('kitty-home-')),
      dryRun: true,
      threaded: true,
      warn: () => undefined,
      onEvent: (event) => events.push(event as unknown as Event),
    });
    expect(events.map(said).sort()).toEqual(truth.map(happened).sort());
  });

  it('two clones, and one capturing commit range by commit range as hooks do, queue the same ids', async () => {
    const { dir, shas } = await generated(4);
    const whole = (await dryRun(dir, tempDir('kitty-home-'))).map((e) => e.event_id).sort();
    const other = join(tempDir('kitty-clone-'), 'clone');
    execFileSync('git', ['clone', '-q', dir, other]);
    expect((await dryRun(other, tempDir('kitty-home-'))).map((e) => e.event_id).sort()).toEqual(whole);

    const env = testEnv(tempDir('kitty-home-'));
    const stops = [...shas.filter((_, i) => i > 0 && i % 30 === 0), 'HEAD'];
    let from = shas[0]!;
    expect((await runKittyHere(['derive', from], other, env)).code).toBe(0);
    for (const to of stops) {
      const result = await runKittyHere(['derive', `${from}..${to}`], other, env);
      expect(result.code, result.stderr).toBe(0);
      from = to;
    }
    const listed = JSON.parse((await runKittyHere(['events', 'list', '--state', 'all', '--json'], other, env)).stdout) as { event_id: string }[];
    expect(listed.map((e) => e.event_id).sort()).toEqual(whole);
  });
});

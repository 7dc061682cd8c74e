import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTree, type BlobReader as SourceBlobReader } from '../../src/derive/blobs.js';
import { gitdir, type Repo, ROOT } from '../helpers/gitdir.js';

// the threaded reader starts its worker from the built file next to it, so these tests use the build
const { BlobReader } = (await import(join(ROOT, 'dist', 'derive', 'blobs.js'))) as { BlobReader: typeof SourceBlobReader };

function hashObject(repo: Repo, content: string | Buffer): string {
  return execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo.dir, env: repo.env, input: content, encoding: 'utf8' }).trim();
}

function move(wp: string, to: string, at: string): string {
  return JSON.stringify({ wp_id: wp, from_lane: 'planned', to_lane: to, at, actor: 'ada' });
}

const MISSING = 'f'.repeat(40);

async function withReader<T>(
  repo: Repo,
  options: { strict?: boolean; threaded?: boolean },
  use: (reader: SourceBlobReader, warnings: string[]) => Promise<T>,
): Promise<T> {
  const warnings: string[] = [];
  const reader = new BlobReader({ root: repo.dir, env: repo.env, warn: (line) => warnings.push(line), ...options });
  try {
    return await use(reader, warnings);
  } finally {
    await reader.close();
  }
}

describe('blob reader: work-package states', () => {
  it('parses a WP blob once and answers the same state again; no sha is no state', async () => {
    const repo = gitdir();
    const sha = hashObject(repo, '---\ntitle: First\nlane: doing\n---\nbody\n');
    await withReader(repo, {}, async (reader, warnings) => {
      reader.prefetch([null, undefined, sha], 'WP01.md');
      const state = await reader.wpState(sha, 'WP01.md');
      expect(state).toEqual({ lane: 'doing', history: [], title: 'First' });
      expect(await reader.wpState(sha, 'WP01.md', true)).toBe(state);
      expect(await reader.wpState(null, 'WP01.md')).toBeNull();
      expect(await reader.wpState(undefined, 'WP01.md')).toBeNull();
      expect(warnings).toEqual([]);
    });
  });

  it('skips a missing blob, an oversized one and a malformed one with one warning each', async () => {
    const repo = gitdir();
    const big = hashObject(repo, Buffer.alloc(8 * 1024 * 1024 + 1, 'x'));
    const bad = hashObject(repo, '---\nlane: [unclosed\n---\n');
    await withReader(repo, {}, async (reader, warnings) => {
      expect(await reader.wpState(MISSING, 'f/WP01.md@abc')).toBeNull();
      expect(await reader.wpState(big, 'f/WP02.md@abc')).toBeNull();
      expect(await reader.wpState(bad, 'f/WP03.md')).toBeNull();
      // asked again: the same problems are not warned twice
      expect(await reader.wpState(MISSING, 'f/WP01.md@abc')).toBeNull();
      expect(await reader.wpState(bad, 'f/WP03.md')).toBeNull();
      expect(warnings).toHaveLength(3);
      expect(warnings[0]).toBe(`kitty: warning: KITTY_ERR_WP_UNREADABLE: cannot read f/WP01.md@abc: git object ${MISSING} is missing (skipped)`);
      expect(warnings[1]).toBe(`kitty: warning: KITTY_ERR_WP_TOO_LARGE: f/WP02.md@abc is ${8 * 1024 * 1024 + 1} bytes, over the 8 MiB limit (skipped)`);
      expect(warnings[2]).toMatch(/^kitty: warning: KITTY_ERR_WP_MALFORMED: malformed YAML frontmatter in f\/WP03\.md:2: .* \(skipped\)$/);
    });
  });

  it('throws the problem under strict instead of skipping', async () => {
    const repo = gitdir();
    const bad = hashObject(repo, '---\nlane: [unclosed\n---\n');
    await withReader(repo, { strict: true }, async (reader, warnings) => {
      await expect(reader.wpState(bad, 'f/WP03.md')).rejects.toMatchObject({ code: 'KITTY_ERR_WP_MALFORMED' });
      await expect(reader.wpState(MISSING, 'f/WP04.md')).rejects.toMatchObject({
        code: 'KITTY_ERR_WP_UNREADABLE',
        message: `cannot read f/WP04.md: git object ${MISSING} is missing`,
      });
      expect(warnings).toEqual([]);
    });
  });
});

describe('blob reader: trees and status logs', () => {
  it.each([false, true])('lists a tree by rev:path, empty for none (threaded: %s)', async (threaded) => {
    const repo = gitdir({ 'kitty-specs/f/tasks/WP01-a.md': 'a\n', 'kitty-specs/f/tasks/done/WP02.md': 'b\n' });
    await withReader(repo, { threaded }, async (reader) => {
      expect(await reader.tree('HEAD:kitty-specs/f/tasks')).toEqual([
        { name: 'WP01-a.md', sha: repo.git('rev-parse', 'HEAD:kitty-specs/f/tasks/WP01-a.md'), isTree: false },
        { name: 'done', sha: repo.git('rev-parse', 'HEAD:kitty-specs/f/tasks/done'), isTree: true },
      ]);
      expect(await reader.tree('HEAD:kitty-specs/nothing')).toEqual([]);
    });
  });

  it('names the WPs a status log tracks; null for no such blob', async () => {
    const repo = gitdir();
    const log = hashObject(
      repo,
      `${move('WP01', 'doing', '2026-01-01T00:00:00Z')}\n{"kind":"annotation","text":"WP09"}\n${move('WP02', 'done', '2026-01-02T00:00:00Z')}\n`,
    );
    await withReader(repo, {}, async (reader) => {
      const tracked = await reader.trackedBy(log, 'status.events.jsonl');
      expect([...tracked!].sort()).toEqual(['WP01', 'WP02']);
      expect(await reader.trackedBy(log, 'status.events.jsonl')).toBe(tracked);
      expect(await reader.trackedBy(MISSING, 'status.events.jsonl')).toBeNull();
    });
  });

  it('reads what each version of a log added: whole, appended, rewritten, and merged', async () => {
    const repo = gitdir();
    const a = move('WP01', 'doing', '2026-01-01T00:00:00Z');
    const b = move('WP02', 'doing', '2026-01-02T00:00:00Z');
    const c = move('WP03', 'done', '2026-01-03T00:00:00Z');
    const d = move('WP04', 'done', '2026-01-04T00:00:00Z');
    const v1 = hashObject(repo, `${a}\n`);
    const v2 = hashObject(repo, `${a}\n${b}\n`);
    // a rewrite: the first line re-keyed (same move, other spacing), and a new line
    const restatedA = a.replace('"to_lane":"doing"', '"to_lane": "doing"');
    const v3 = hashObject(repo, `${restatedA}\n${b}\n${c}\n`);
    const other = hashObject(repo, `${a}\n${d}\n`);
    const merged = hashObject(repo, `${a}\n${b}\n${d}\n`);
    await withReader(repo, {}, async (reader, warnings) => {
      const first = (await reader.logAddition(v1, null, [], 'log@1'))!;
      expect(first.parse.transitions.map((line) => [line.wpId, line.line])).toEqual([['WP01', 1]]);
      expect([...first.tracked]).toEqual(['WP01']);
      expect(first.restated).toBe(0);

      const second = (await reader.logAddition(v2, v1, [], 'log@2'))!;
      expect(second.parse.transitions.map((line) => [line.wpId, line.line])).toEqual([['WP02', 2]]);
      expect([...second.tracked].sort()).toEqual(['WP01', 'WP02']);

      const third = (await reader.logAddition(v3, v2, [], 'log@3'))!;
      expect(third.parse.transitions.map((line) => line.wpId)).toEqual(['WP03']);
      expect(third.restated).toBe(1);
      expect([...third.tracked].sort()).toEqual(['WP01', 'WP02', 'WP03']);

      // a merge of v2 and `other`: the line `other` already had is not this commit's
      const merge = (await reader.logAddition(merged, v2, [other, null], 'log@4'))!;
      expect(merge.parse.transitions.map((line) => line.wpId)).toEqual([]);
      const mergeWithout = (await reader.logAddition(merged, v2, [v1], 'log@5'))!;
      expect(mergeWithout.parse.transitions.map((line) => line.wpId)).toEqual(['WP04']);

      expect(await reader.logAddition(MISSING, v2, [], 'log@6')).toBeNull();
      expect(warnings).toEqual([`kitty: warning: KITTY_ERR_WP_UNREADABLE: cannot read log@6: git object ${MISSING} is missing (skipped)`]);
    });
  });

  it('reads a log whose earlier version is missing as all new, and one without a final newline', async () => {
    const repo = gitdir();
    const a = move('WP01', 'doing', '2026-01-01T00:00:00Z');
    const b = move('WP02', 'doing', '2026-01-02T00:00:00Z');
    const c = move('WP03', 'done', '2026-01-03T00:00:00Z');
    const v1 = hashObject(repo, `${a}\n${b}`);
    const v2 = hashObject(repo, `${a}\n${b}\n${c}\n`);
    await withReader(repo, {}, async (reader, warnings) => {
      const whole = (await reader.logAddition(v1, MISSING, [], 'log@1'))!;
      expect(whole.parse.transitions.map((line) => [line.wpId, line.line])).toEqual([
        ['WP01', 1],
        ['WP02', 2],
      ]);
      expect(warnings).toEqual([`kitty: warning: KITTY_ERR_WP_UNREADABLE: cannot read log@1: git object ${MISSING} is missing (skipped)`]);
      // v1 ends inside its last line, so v2 is no plain append of it: compared line by line, only WP03 is new
      const next = (await reader.logAddition(v2, v1, [], 'log@2'))!;
      expect(next.parse.transitions.map((line) => line.wpId)).toEqual(['WP03']);
      expect(next.restated).toBe(0);
      expect([...next.tracked].sort()).toEqual(['WP01', 'WP02', 'WP03']);
    });
  });

  it.each([false, true])('reads states and logs the same way threaded (threaded: %s)', async (threaded) => {
    const repo = gitdir();
    const wp = hashObject(repo, '---\nlane: for_review\nhistory:\n  - timestamp: "2026-01-01T00:00:00Z"\n    lane: for_review\n---\n');
    const a = move('WP01', 'doing', '2026-01-01T00:00:00Z');
    const b = move('WP02', 'doing', '2026-01-02T00:00:00Z');
    const v1 = hashObject(repo, `${a}\n`);
    const v2 = hashObject(repo, `${a}\n${b}\n`);
    await withReader(repo, { threaded }, async (reader, warnings) => {
      const state = await reader.wpState(wp, 'WP01.md', true);
      expect(state?.lane).toBe('for_review');
      expect(state?.history.map((entry) => entry.lane)).toEqual(['for_review']);
      expect(await reader.wpState(MISSING, 'WP09.md', true)).toBeNull();
      await reader.logAddition(v1, null, [], 'log@1');
      const added = (await reader.logAddition(v2, v1, [], 'log@2'))!;
      expect(added.parse.transitions.map((line) => [line.wpId, line.line])).toEqual([['WP02', 2]]);
      expect(warnings).toHaveLength(1);
    });
  });

  it('reads an appended log against a base it has not seen, from the older blob', async () => {
    const repo = gitdir();
    const a = move('WP01', 'doing', '2026-01-01T00:00:00Z');
    const b = move('WP02', 'doing', '2026-01-02T00:00:00Z');
    const v1 = hashObject(repo, `${a}\n`);
    const v2 = hashObject(repo, `${a}\n${b}\n`);
    await withReader(repo, {}, async (reader) => {
      // v1 read as a plain blob first (kept as the base, but its facts not yet known)
      const tracked = await reader.trackedBy(v1, 'log');
      expect([...tracked!]).toEqual(['WP01']);
      const added = (await reader.logAddition(v2, v1, [], 'log@2'))!;
      expect(added.parse.transitions.map((line) => [line.wpId, line.line])).toEqual([['WP02', 2]]);
      expect([...added.tracked].sort()).toEqual(['WP01', 'WP02']);
    });
  });
});

describe('parseTree', () => {
  it('stops at an entry cut off before its name ends', () => {
    const sha = Buffer.alloc(20, 0xab);
    const whole = Buffer.concat([Buffer.from('100644 a.md\0'), sha]);
    expect(parseTree(Buffer.concat([whole, Buffer.from('100644 cut-off')]), 20)).toEqual([{ name: 'a.md', sha: 'ab'.repeat(20), isTree: false }]);
    expect(parseTree(Buffer.from('40000'), 20)).toEqual([]);
  });
});

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type LogCommit, parseLogRecord, streamLog } from '../../src/git/log.js';
import { gitdir, processesIn, tempDir } from '../helpers/gitdir.js';

async function collect(revisions: string[], pathspecs: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<LogCommit[]> {
  const commits: LogCommit[] = [];
  for await (const commit of streamLog(revisions, pathspecs, options)) commits.push(commit);
  return commits;
}

const A = 'a'.repeat(40);
const Z = '0'.repeat(40);

describe('git log stream', () => {
  it('streams the commits touching the paths, parents first, with each blob before and after', async () => {
    const repo = gitdir({ 'kitty-specs/f/tasks/WP01.md': 'one\n', 'README.md': 'r\n' });
    const first = repo.git('rev-parse', 'HEAD');
    repo.commit('readme only', { files: { 'README.md': 'r2\n' } });
    repo.commit('edit', { date: '2026-02-03T04:05:06+02:00', files: { 'kitty-specs/f/tasks/WP01.md': 'two\n' } });
    const last = repo.git('rev-parse', 'HEAD');
    const commits = await collect(['HEAD'], ['kitty-specs'], { cwd: repo.dir, env: repo.env });
    expect(commits.map((commit) => commit.sha)).toEqual([first, last]);
    expect(commits[0]!.parents).toEqual([]);
    expect(commits[0]!.changes).toEqual([
      { path: 'kitty-specs/f/tasks/WP01.md', before: [null], after: repo.git('rev-parse', `${first}:kitty-specs/f/tasks/WP01.md`) },
    ]);
    expect(commits[1]).toMatchObject({ authorDate: '2026-02-03T04:05:06+02:00', authorName: 'Ada Tester' });
    expect(commits[1]!.changes).toEqual([
      {
        path: 'kitty-specs/f/tasks/WP01.md',
        before: [repo.git('rev-parse', `${first}:kitty-specs/f/tasks/WP01.md`)],
        after: repo.git('rev-parse', 'HEAD:kitty-specs/f/tasks/WP01.md'),
      },
    ]);
  });

  it('stops git when the reader stops early, mid-stream', async () => {
    const repo = gitdir();
    // 3000 commits: more log output than a pipe holds, so git is still writing when the reader stops
    let stream = '';
    for (let n = 1; n <= 3000; n++) {
      const content = `v${n}\n`;
      stream += `commit refs/heads/main\nmark :${n}\ncommitter Ada <a@x> ${1_700_000_000 + n} +0000\ndata 1\nx\n`;
      if (n > 1) stream += `from :${n - 1}\n`;
      stream += `M 100644 inline kitty-specs/f/tasks/WP01.md\ndata ${content.length}\n${content}\n`;
    }
    execFileSync('git', ['fast-import', '--quiet'], { cwd: repo.dir, env: repo.env, input: stream });
    const seen: string[] = [];
    const started = Date.now();
    for await (const commit of streamLog(['main'], ['kitty-specs'], { cwd: repo.dir, env: repo.env })) {
      seen.push(commit.sha);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual(repo.git('rev-list', '--reverse', 'main').split('\n').slice(0, 2));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(processesIn(repo.dir)).toEqual([]);
  });

  it('yields nothing for a range without matching commits', async () => {
    const repo = gitdir({ 'README.md': 'r\n' });
    expect(await collect(['HEAD'], ['kitty-specs'], { cwd: repo.dir, env: repo.env })).toEqual([]);
  });

  it('reports an unknown revision as a git failure naming it', async () => {
    const repo = gitdir({ 'README.md': 'r\n' });
    await expect(collect(['no-such-branch'], ['kitty-specs'], { cwd: repo.dir, env: repo.env })).rejects.toMatchObject({
      code: 'KITTY_ERR_GIT_FAILED',
      message: expect.stringMatching(/^git log no-such-branch failed: fatal: .*no-such-branch/),
    });
  });

  it('reports a directory outside any repository as not a repo', async () => {
    const dir = tempDir();
    const env = { ...gitdir().env, GIT_CEILING_DIRECTORIES: dir.replace(/\/[^/]*$/, '') };
    await expect(collect(['HEAD'], [], { cwd: dir, env })).rejects.toMatchObject({ code: 'KITTY_ERR_NOT_A_REPO', message: `not a git repository: ${dir}` });
  });

  it('reports a missing git as such', async () => {
    const repo = gitdir();
    await expect(collect(['HEAD'], [], { cwd: repo.dir, env: { ...repo.env, PATH: tempDir() } })).rejects.toMatchObject({
      code: 'KITTY_ERR_GIT_MISSING',
      message: 'git was not found on PATH',
    });
  });

  it('passes on a git that cannot be started for another reason as it is', async () => {
    const repo = gitdir();
    const bin = tempDir();
    writeFileSync(join(bin, 'git'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    await expect(collect(['HEAD'], [], { cwd: repo.dir, env: { ...repo.env, PATH: bin } })).rejects.toMatchObject({ code: 'EACCES', syscall: 'spawn git' });
  });
});

describe('parseLogRecord edges', () => {
  it('reads a header without any changes, and a record cut before its path', () => {
    expect(parseLogRecord(`${A}\x1f\x1f2026-01-01T00:00:00Z\x1fAda`)).toEqual({
      sha: A,
      parents: [],
      authorDate: '2026-01-01T00:00:00Z',
      authorName: 'Ada',
      changes: [],
    });
    expect(parseLogRecord(`${A}\x1f\x1f2026-01-01T00:00:00Z\x1fAda\0\n:000000 100644 ${Z} ${A} A`).changes).toEqual([{ path: '', before: [null], after: A }]);
    expect(parseLogRecord('').sha).toBe('');
  });
});

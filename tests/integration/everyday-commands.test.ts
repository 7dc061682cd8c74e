import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitdir, wp } from '../helpers/gitdir.js';
import { F, hookedRepo, queued } from '../helpers/hooks.js';
import { login, startServer } from '../helpers/server.js';

const WP1 = `${F}/WP01-api.md`;

function subject(repo: { git: (...args: string[]) => string }): string {
  return repo.git('log', '-1', '--format=%B');
}

describe('kitty wp move: the commit message', () => {
  it('-m/--message with placeholders, a note the message does not place in its body', async () => {
    const repo = gitdir({ [WP1]: wp({ lane: 'planned' }) });
    expect((await repo.run(['wp', 'move', 'WP01', 'doing', '-m', 'chore({feature}): {wp} {from} -> {to}'])).code).toBe(0);
    expect(subject(repo)).toBe('chore(001-demo): WP01 planned -> doing');
    expect((await repo.run(['wp', 'move', 'WP01', 'for_review', '--message', 'review {wp}', '--note', 'ready'])).code).toBe(0);
    expect(subject(repo)).toBe('review WP01\n\nready');
  });

  it('takes the template from wp_move.message in .kittify/config.yaml; -m wins over it', async () => {
    const repo = gitdir({ [WP1]: wp({ lane: 'planned' }), '.kittify/config.yaml': 'wp_move:\n  message: "kitty: {wp} to {to} [{note}]"\n' });
    expect((await repo.run(['wp', 'move', 'WP01', 'doing', '--note', 'started'])).code).toBe(0);
    expect(subject(repo)).toBe('kitty: WP01 to doing [started]');
    expect((await repo.run(['wp', 'move', 'WP01', 'done', '-m', 'finish {wp}'])).code).toBe(0);
    expect(subject(repo)).toBe('finish WP01');
  });
});

describe('kitty wp move when git refuses the commit', () => {
  it("shows git's whole stderr, leaves the tree as it was, exits non-zero, and a second run does not claim success", async () => {
    const repo = gitdir({ [WP1]: wp({ lane: 'planned' }) });
    const hook = join(repo.dir, '.git', 'hooks', 'commit-msg');
    writeFileSync(hook, '#!/bin/sh\necho "commit-msg: subject must start with a ticket" >&2\necho "commit-msg: see CONTRIBUTING.md" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    const before = readFileSync(join(repo.dir, WP1), 'utf8');
    const head = repo.git('rev-parse', 'HEAD');

    for (let run = 0; run < 2; run++) {
      const move = await repo.run(['wp', 'move', 'WP01', 'doing']);
      expect(move.code).toBe(1);
      expect(move.stdout).toBe('');
      expect(move.stderr).toContain('commit-msg: subject must start with a ticket\ncommit-msg: see CONTRIBUTING.md\n');
      expect(move.stderr).toMatch(/kitty: error KITTY_ERR_GIT_FAILED: git refused the commit of 001-demo\/WP01 → doing \(exit 1\).*hint: .*kitty wp move/);
      expect(readFileSync(join(repo.dir, WP1), 'utf8')).toBe(before);
      expect(repo.git('status', '--porcelain')).toBe('');
      expect(repo.git('rev-parse', 'HEAD')).toBe(head);
    }
  });

  it('puts a legacy lane-folder move back too', async () => {
    const repo = gitdir({ 'kitty-specs/002-old/tasks/planned/WP03-x.md': '---\ntitle: X\n---\nbody\n' });
    writeFileSync(join(repo.dir, '.git', 'hooks', 'pre-commit'), '#!/bin/sh\necho "pre-commit: no" >&2\nexit 1\n', { mode: 0o755 });
    const move = await repo.run(['wp', 'move', 'WP03', 'doing']);
    expect(move.code).toBe(1);
    expect(move.stderr).toContain('pre-commit: no');
    expect(repo.git('status', '--porcelain', '--untracked-files=all')).toBe('');
  });

  it('a lane only in the working tree (an uncommitted move) is not "nothing to do"', async () => {
    const repo = gitdir({ [WP1]: wp({ lane: 'planned' }) });
    expect((await repo.run(['wp', 'move', 'WP01', 'doing', '--no-commit'])).code).toBe(0);
    const again = await repo.run(['wp', 'move', 'WP01', 'doing']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('KITTY_ERR_WP_DIRTY: 001-demo/WP01 is in doing only in the working tree');
    expect(again.stdout).toBe('');
  });
});

describe('kitty events list', () => {
  it("shows the current repository's project by default, every project with --all-projects, with a header row", async () => {
    const one = await hookedRepo();
    one.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    // another root commit: a project's uuid comes from it, and the same files in the same second make the same one
    const two = await hookedRepo({ home: one.home, files: { 'README.md': 'another project\n' } });
    two.commit('plan', { files: { [`${F}/WP07-other.md`]: wp({ lane: 'doing' }) } });
    expect(queued(one)).toHaveLength(2);

    const mine = await one.run(['events', 'list']);
    expect(mine.code, mine.stderr).toBe(0);
    const lines = mine.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^EVENT ID +STATE +CLOCK +WORK PACKAGE +MOVE +TIME +NOTE$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^\S{26} +pending +\d+ +001-demo\/WP01 +∅ → planned +\S+Z$/);

    const all = (await one.run(['events', 'list', '--all-projects'])).stdout.trimEnd().split('\n');
    expect(all).toHaveLength(3);
    expect(all.join('\n')).toContain('001-demo/WP07');

    const json = JSON.parse((await one.run(['events', 'list', '--json'])).stdout) as { aggregate_id: string }[];
    expect(json.map((event) => event.aggregate_id)).toEqual(['WP01']);
    expect(JSON.parse((await one.run(['events', 'list', '--json', '--all-projects'])).stdout)).toHaveLength(2);
    expect((await one.run(['events', 'list', '--state', 'dead'])).stdout).toMatch(/^no dead events of project \S+ \(--all-projects for every project\)\n$/);
  });
});

describe('kitty board', () => {
  it('shows every lane of the vocabulary in use, empty ones too', async () => {
    const four = gitdir({ [WP1]: wp({ lane: 'doing', title: 'API' }) });
    const board = await four.run(['board']);
    expect(board.stdout.split('\n')[1]!.split(/\s+/).filter(Boolean)).toEqual(['planned', '(0)', 'doing', '(1)', 'for_review', '(0)', 'done', '(0)']);

    const nine = gitdir({ [WP1]: wp({ lane: 'in_review' }), [`${F}/WP02.md`]: wp({ lane: 'parked' }) });
    const header = (await nine.run(['board'], { env: { COLUMNS: '200' } })).stdout.split('\n')[1]!;
    expect(header.split(/\s+/).filter((word) => !word.startsWith('('))).toEqual([
      'planned',
      'claimed',
      'in_progress',
      'for_review',
      'in_review',
      'approved',
      'done',
      'blocked',
      'canceled',
      'parked',
    ]);
  });
});

describe('kitty sync verify names the cause and its fix', () => {
  it('queued but not sent: flush; never captured: derive', async () => {
    const server = await startServer();
    const repo = await hookedRepo();
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    const commitSkipped = (message: string, path: string, lane: string): void => {
      repo.write(path, wp({ lane }));
      repo.git('add', '-A');
      execFileSync('git', ['commit', '-q', '-m', message], { cwd: repo.dir, env: { ...repo.env, KITTY: '0' } });
    };
    commitSkipped('plan WP01', WP1, 'planned');
    expect((await repo.run(['derive'])).code).toBe(0);
    commitSkipped('plan WP02', `${F}/WP02-ui.md`, 'planned');

    const verify = await repo.run(['sync', 'verify', '--json']);
    expect(verify.code).toBe(1);
    const report = JSON.parse(verify.stdout) as { differences: { wp_id: string; cause: string; fix: string }[]; fixes: string[] };
    expect(report.differences.map(({ wp_id, cause, fix }) => ({ wp_id, cause, fix }))).toEqual([
      { wp_id: 'WP01', cause: 'pending', fix: 'kitty sync flush' },
      { wp_id: 'WP02', cause: 'not-captured', fix: 'kitty derive, then kitty sync flush' },
    ]);
    const human = await repo.run(['sync', 'verify']);
    expect(human.stdout).toContain('001-demo/WP01: missing on the server (local lane planned); fix: kitty sync flush\n');
    expect(human.stdout).toContain('kitty sync verify: 2 differences; fixes: kitty sync flush; kitty derive, then kitty sync flush\n');
  });
});

import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Repo, wp } from '../helpers/gitdir.js';
import { F, hookedRepo, moves, queued } from '../helpers/hooks.js';

const WP1 = `${F}/WP01.md`;

/** A commit git's hooks do not see: what a stub that never ran, or a request written later, leaves to the worker. */
function commitUnhooked(repo: Repo, message: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) repo.write(path, content);
  repo.git('add', '-A');
  repo.git('-c', 'core.hooksPath=/dev/null', 'commit', '-q', '-m', message);
  return repo.git('rev-parse', 'HEAD');
}

function kittyDir(repo: Repo): string {
  return join(repo.dir, '.git', 'kitty');
}

function request(repo: Repo, name: string, text: string): string {
  const dir = join(kittyDir(repo), 'requests');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const worker = (repo: Repo) => repo.run(['hooks', 'worker']);

describe('the hook worker takes the requests the stubs left', () => {
  it('sets aside what is no request and a request a stub never finished, keeps one still being written, and resolves a head the stub could not read', async () => {
    const repo = await hookedRepo({ files: { [WP1]: wp({ lane: 'planned' }) } });
    const before = queued(repo).length;
    const head = commitUnhooked(repo, 'start', { [WP1]: wp({ lane: 'doing' }) });
    const junk = request(repo, '1', 'not a capture request\n');
    const writing = request(repo, '2', 'hook post-commit \n');
    const abandoned = request(repo, '3', 'hook post-commit \n');
    const old = (Date.now() - 5 * 60_000) / 1000;
    utimesSync(abandoned, old, old);
    // packed refs or reftable: the stub found no head, only the ref
    const unresolved = request(repo, '4', `hook post-commit \ngitdir ${join(repo.dir, '.git')}\nref refs/heads/main\nhead \nend\n`);
    const result = await worker(repo);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`kitty: set aside unreadable capture request ${junk}.bad\n`);
    expect(result.stderr).toContain(`kitty: captured 1 commits up to ${head.slice(0, 7)}: 1 events queued, 0 already queued\n`);
    expect(readdirSync(join(kittyDir(repo), 'requests')).sort()).toEqual(['1.bad', '2', '3.bad']);
    expect(existsSync(writing)).toBe(true);
    expect(existsSync(unresolved)).toBe(false);
    const events = queued(repo);
    expect(moves(events.slice(before))).toEqual(['WP01 planned>doing']);
    expect(events.at(-1)!.git).toMatchObject({ commit: head, branch: 'main' });
  });

  it('a ref that names no commit captures nothing and removes the request', async () => {
    const repo = await hookedRepo({ files: { [WP1]: wp({ lane: 'planned' }) } });
    const before = queued(repo).length;
    const path = request(repo, '1', `hook post-commit \nref refs/heads/gone\nhead \nend\n`);
    const result = await worker(repo);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(existsSync(path)).toBe(false);
    expect(queued(repo)).toHaveLength(before);
  });

  it('without a tips file only the requested commit is captured, not the history behind it; a broken squash record is ignored', async () => {
    const repo = await hookedRepo({ files: { [WP1]: wp({ lane: 'planned' }) } });
    const before = queued(repo).length;
    commitUnhooked(repo, 'start', { [WP1]: wp({ lane: 'doing' }) });
    const head = commitUnhooked(repo, 'review', { [WP1]: wp({ lane: 'for_review' }) });
    rmSync(join(kittyDir(repo), 'tips'));
    writeFileSync(join(kittyDir(repo), 'squash.json'), '{"base": 42}');
    // detached: the ref is HEAD itself, so the event names no branch
    request(repo, '1', `hook post-commit \nref HEAD\nhead ${head}\nend\n`);
    const result = await worker(repo);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`kitty: captured 1 commits up to ${head.slice(0, 7)}`);
    const added = queued(repo).slice(before);
    expect(moves(added)).toEqual(['WP01 doing>for_review']);
    expect(added[0]!.git).toMatchObject({ commit: head, branch: null });
    expect(existsSync(join(kittyDir(repo), 'tips'))).toBe(true);
  });

  it('a rewrite chain in one round names the first original: each of two unhooked amends queues only its new hop', async () => {
    const repo = await hookedRepo({ files: { [WP1]: wp({ lane: 'planned' }) } });
    const first = repo.commit('start', { files: { [WP1]: wp({ lane: 'doing' }) } });
    const before = queued(repo).length;
    expect(moves(queued(repo)).at(-1)).toBe('WP01 planned>doing');
    const amend = (lane: string): string => {
      repo.write(WP1, wp({ lane }));
      repo.git('-c', 'core.hooksPath=/dev/null', 'commit', '-q', '-a', '--amend', '--no-edit');
      return repo.git('rev-parse', 'HEAD');
    };
    const second = amend('for_review');
    const third = amend('done');
    // pairs as post-rewrite passes them, one request per amend, and a no-op pair a tool may write
    request(repo, '1', `hook post-rewrite amend\nref refs/heads/main\nhead ${second}\nrewritten\n${first} ${second}\nend\n`);
    request(repo, '2', `hook post-rewrite amend\nref refs/heads/main\nhead ${third}\nrewritten\n${second} ${third}\n${third} ${third}\nend\n`);
    const result = await worker(repo);
    expect(result.code).toBe(0);
    // without the rewrites each amend would read as a move from planned, the lane before the first commit
    const added = moves(queued(repo).slice(before));
    expect(added).toHaveLength(2);
    expect(added[0]).toBe('WP01 doing>for_review');
    expect(added[1]).toBe('WP01 for_review>done');
  });
});

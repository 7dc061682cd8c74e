import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, retryDelayMs, retrySchedule } from '../../src/flusher/runner.js';
import { type Repo, wp } from '../helpers/gitdir.js';
import { F, hookedRepo, waitFor } from '../helpers/hooks.js';
import { login, startRestartableServer, startServer, type TestServer } from '../helpers/server.js';
import { counts } from '../helpers/sync.js';

const WP1 = `${F}/WP01-api.md`;

interface Status {
  pending: number;
  delivered: number;
  last_error: string | null;
  last_error_at: string | null;
  flusher_pid: number | null;
}

async function status(repo: Repo): Promise<Status> {
  return JSON.parse((await repo.run(['sync', 'status', '--json'])).stdout) as Status;
}

/**
 * The flusher's state read from the files, not by a kitty command: any kitty command would
 * restart a flusher that gave up, which is what some tests here want to see happen only once.
 */
function flusherState(repo: { home: string; env: NodeJS.ProcessEnv }) {
  let record: { last_error: string | null; pending: boolean } | null = null;
  try {
    record = JSON.parse(readFileSync(join(repo.home, 'sync.json'), 'utf8')) as { last_error: string | null; pending: boolean };
  } catch {
    // no attempt yet
  }
  return { record, running: existsSync(join(repo.home, 'flusher.lock')), pending: counts(repo.env).pending };
}

/** Waits until a flusher tried, failed and gave up, leaving events pending. */
async function gaveUp(repo: { home: string; env: NodeJS.ProcessEnv }) {
  const stopped = await waitFor(
    () => flusherState(repo),
    (s) => Boolean(s.record?.last_error) && s.record?.pending === true && !s.running,
  );
  expect(stopped).toMatchObject({ running: false, record: { pending: true, last_error: expect.stringMatching(/ECONNREFUSED|refused|unreachable/i) } });
  expect(stopped.pending).toBeGreaterThan(0);
  return stopped;
}

/** A repository whose hooks run in the background, logged in to `server` (which the test may stop). */
async function loggedInRepo(server: TestServer, backoff: string) {
  // set before the first commit: its background worker starts a flusher if the login is in by then
  const repo = await hookedRepo({ background: true, env: { KITTY_SYNC_BACKOFF: backoff } });
  expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
  return repo;
}

describe('the background flusher keeps going while the server is down', () => {
  it('retries on the KITTY_SYNC_BACKOFF schedule, shows the error in sync status, and delivers once the server is back', async () => {
    const server = await startRestartableServer();
    const repo = await loggedInRepo(server, '100:300:120000');
    await server.stop();
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });

    expect(await waitFor(() => flusherState(repo).record?.last_error, Boolean)).toBeTruthy();
    const failing = await status(repo);
    expect(failing.last_error).toMatch(/ECONNREFUSED|refused|unreachable/i);
    expect(failing.last_error_at).not.toBeNull();
    expect(failing.flusher_pid).not.toBeNull();
    expect((await repo.run(['sync', 'status'])).stdout).toMatch(/^last error: .+ ago\)$/m);
    const doctor = JSON.parse((await repo.run(['doctor', '--json'])).stdout) as { checks: { name: string; status: string; detail: string; fix: string }[] };
    expect(doctor.checks.find((check) => check.name === 'delivery')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('events wait'),
      fix: expect.stringContaining('kitty sync flush'),
    });

    await startServer({ data: server.data, port: server.port });
    const after = await waitFor(
      () => counts(repo.env),
      (c) => c.pending === 0,
    );
    expect(after).toMatchObject({ pending: 0, delivered: 1 });
    expect(
      await waitFor(
        () => flusherState(repo).record?.last_error,
        (error) => error === null,
      ),
    ).toBeNull();
    expect((await status(repo)).last_error).toBeNull();
  });

  it('gives up after the bounded time; the next kitty command starts it again while events are pending', async () => {
    const server = await startRestartableServer();
    const repo = await loggedInRepo(server, '50:100:400');
    await server.stop();
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    const stopped = await gaveUp(repo);

    await startServer({ data: server.data, port: server.port });
    // nothing else restarts it: the pending events are still here until a command runs
    expect(counts(repo.env).pending).toBe(stopped.pending);
    expect((await repo.run(['board'])).code).toBe(0);
    const after = await waitFor(
      () => counts(repo.env),
      (c) => c.pending === 0,
    );
    expect(after.pending).toBe(0);
  });

  it('the next hook run starts it again while events are pending', async () => {
    const server = await startRestartableServer();
    const repo = await loggedInRepo(server, '50:100:400');
    await server.stop();
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    await gaveUp(repo);

    await startServer({ data: server.data, port: server.port });
    repo.commit('notes', { files: { 'notes.md': 'no lane change here\n' } });
    const after = await waitFor(
      () => counts(repo.env),
      (c) => c.pending === 0,
    );
    expect(after.pending).toBe(0);
  });
});

describe('kitty auth login', () => {
  it('starts delivery of what was queued before the login', async () => {
    const server = await startServer();
    const repo = await hookedRepo({ background: true });
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    const queued = await waitFor(
      () => counts(repo.env),
      (c) => c.pending === 1,
    );
    expect(queued.pending).toBe(1);
    const result = await login(server.url, repo.dir, repo.env);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('delivering 1 queued event in the background');
    const after = await waitFor(
      () => counts(repo.env),
      (c) => c.pending === 0,
    );
    expect(after.pending).toBe(0);
  });

  it("warns before sending when this project's events went to another team", async () => {
    const server = await startServer({ users: ['demo:demo-pass:acme', 'bob:bob-pass:beta'] });
    const repo = await hookedRepo();
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    // the flusher the commit started delivers the move and ends, so a flusher seen after the login is the login's
    await waitFor(
      () => ({ stored: server.events().length, running: flusherState(repo).running }),
      (state) => state.stored === 1 && !state.running,
    );
    expect(server.events().every((event) => event.team_slug === 'acme')).toBe(true);

    // a move queued without a flusher: captured later by derive, not by a hook
    repo.write(WP1, wp({ lane: 'doing' }));
    repo.git('add', '-A');
    execFileSync('git', ['commit', '-q', '-m', 'start'], { cwd: repo.dir, env: { ...repo.env, KITTY: '0' } });
    expect((await repo.run(['derive'])).code).toBe(0);
    expect(counts(repo.env).pending).toBe(1);
    const bob = await repo.run(['auth', 'login', '--server', server.url, '--username', 'bob', '--password-stdin'], { input: 'bob-pass' });
    expect(bob.code).toBe(0);
    expect(bob.stderr).toContain("kitty: warning: this project's events went to team acme until now; you are logged in to team beta");
    expect((await status(repo)).flusher_pid).toBeNull();
    expect(counts(repo.env).pending).toBe(1);
    expect(server.events().filter((event) => event.team_slug === 'beta')).toEqual([]);
  });
});

describe('KITTY_SYNC_BACKOFF', () => {
  it('is FIRST:MAX:FOR in ms; anything else is the default', () => {
    expect(retrySchedule('50:100:400')).toEqual({ firstMs: 50, maxMs: 100, forMs: 400 });
    expect(retrySchedule(undefined)).toEqual(DEFAULT_RETRY);
    expect(retrySchedule('1:2')).toEqual(DEFAULT_RETRY);
    expect(retrySchedule('a:b:c')).toEqual(DEFAULT_RETRY);
    expect(retrySchedule('0:100:400')).toEqual(DEFAULT_RETRY);
    expect(DEFAULT_RETRY).toEqual({ firstMs: 1_000, maxMs: 30_000, forMs: 300_000 });
  });

  it('doubles from FIRST up to MAX, jittered between half and all of it', () => {
    const schedule = { firstMs: 1_000, maxMs: 30_000, forMs: 300_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(schedule, n, 1))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(retryDelayMs(schedule, 1, 0)).toBe(500);
    expect(retryDelayMs(schedule, 100, 0)).toBe(15_000);
  });
});

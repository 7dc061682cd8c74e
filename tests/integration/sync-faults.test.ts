import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { monotonicFactory } from 'ulid';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/queue/queue.js';
import { draft } from '../helpers/events.js';
import { fakeSync, writeCredentials } from '../helpers/fake-sync.js';
import { CLI, runKittyAsync, runKittyHere, tempDir, testEnv, wp } from '../helpers/gitdir.js';
import { F, hookedRepo, waitFor } from '../helpers/hooks.js';
import { closedPort } from '../helpers/net.js';
import { login, startRestartableServer, startServer } from '../helpers/server.js';
import { counts, enqueue, loggedInWithQueue } from '../helpers/sync.js';

/** The flusher's log, to explain a flush that did not finish. */
function flusherLog(env: NodeJS.ProcessEnv): string {
  const log = join(env.KITTY_HOME!, 'logs', 'flusher.log');
  return existsSync(log) ? `\nflusher.log:\n${readFileSync(log, 'utf8').slice(-4000)}` : '';
}

/** How a child process ends: listened for at once, so an early exit is not missed. */
function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('delivery under faults', () => {
  it('a flusher killed with SIGKILL at random points during a 2,000-event flush loses and repeats nothing', async () => {
    const { server, env, cwd } = await loggedInWithQueue(2000);
    for (let kill = 0; kill < 4; kill++) {
      const child = spawn(process.execPath, [CLI, 'sync', 'flush', '--timeout', '30'], { cwd, env, stdio: 'ignore' });
      // listened for at once: a flush that ends before the kill has exited by then
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await sleep(150 + Math.random() * 250);
      child.kill('SIGKILL');
      await exited;
    }
    // well inside the test's own timeout, so a flush that cannot finish reports why
    const final = await runKittyHere(['sync', 'flush', '--json', '--timeout', '30'], cwd, env);
    expect(final.code, `${final.stdout}${final.stderr}${flusherLog(env)}`).toBe(0);
    expect(counts(env)).toEqual({ pending: 0, delivered: 2000, dead: 0 });
    const stored = server.events();
    expect(stored).toHaveLength(2000);
    expect(new Set(stored.map((e) => e.event_id)).size).toBe(2000);
  });

  it('`sync flush` taking over a busy background flusher: the acks it had are written first, so no acked event is sent twice', async () => {
    // 3 frames acked, then none: the flusher sends 13 frames of 100 (10 in flight at most) and waits
    const fake = await fakeSync({ ackFrames: 3, repeatsAreDuplicates: true });
    const home = tempDir();
    writeCredentials(home, fake.url);
    enqueue(home, 1300);
    const env = testEnv(home);
    const background = spawn(process.execPath, [CLI, 'sync', 'run'], { env, stdio: 'ignore' });
    const exited = exitOf(background);
    // frames 11 to 13 go out only once the 3 acks freed their room: the flusher holds 300 acked events
    await waitFor(
      () => fake.frames.length,
      (frames) => frames >= 13,
    );
    fake.ackFrames = Number.POSITIVE_INFINITY;
    const flush = await runKittyAsync(['sync', 'flush', '--json', '--timeout', '30'], tempDir(), env);
    expect(flush.code, flush.stderr + flusherLog(env)).toBe(0);
    expect(await exited).toEqual({ code: 0, signal: null });
    // the 1,000 sent and never acked are sent again (the server has them: duplicate); the 300 acked are not
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 0, duplicate: 1000, pending: 0 });
    expect([...fake.sends.values()].filter((sends) => sends === 1)).toHaveLength(300);
    expect(fake.received.size).toBe(1300);
    expect(counts(env)).toEqual({ pending: 0, delivered: 1300, dead: 0 });
  });

  it('`sync flush` wakes a background flusher from its backoff: it stops at once, of itself, and lets go of the lock', async () => {
    const home = tempDir();
    writeCredentials(home, `http://127.0.0.1:${await closedPort()}`);
    enqueue(home, 5);
    const env = testEnv(home, { KITTY_SYNC_BACKOFF: '60000:60000:600000' });
    const background = spawn(process.execPath, [CLI, 'sync', 'run'], { env, stdio: 'ignore' });
    const exited = exitOf(background);
    const log = join(home, 'logs', 'flusher.log');
    await waitFor(
      () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
      (text) => text.includes('retrying in'),
    );
    const flush = await runKittyAsync(['sync', 'flush', '--json', '--timeout', '3'], tempDir(), env);
    // the server is still down: this flush times out, but it got the lock, which a sleeping flusher would hold for a minute
    expect(JSON.parse(flush.stdout)).toMatchObject({ pending: 5, why_pending: expect.stringMatching(/refused|unreachable|ECONNREFUSED/i) });
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(readFileSync(log, 'utf8')).toContain('stopped: another flusher took over');
    expect(counts(env)).toEqual({ pending: 5, delivered: 0, dead: 0 });
  });

  it('a connection that goes silent mid-flush is declared dead (after 30 s, here 3 s); the unacked events are resent, none twice', {
    timeout: 120_000,
  }, async () => {
    const { server, home, env } = await loggedInWithQueue(0, { KITTY_WS_DEAD_AFTER_MS: '3000' });
    const ulid = monotonicFactory();
    const queue = EventQueue.open({ env });
    queue.enqueue(Array.from({ length: 20_000 }, () => draft(ulid())));
    queue.close();
    const flush = runKittyAsync(['sync', 'flush', '--timeout', '100', '--json'], tempDir(), env);
    await waitFor(
      () => server.events().length,
      (stored) => stored > 0,
      20_000,
    );
    server.process.kill('SIGSTOP');
    const log = join(home, 'logs', 'flusher.log');
    try {
      await waitFor(
        () => (existsSync(log) ? readFileSync(log, 'utf8') : ''),
        (text) => text.includes('no traffic for 3 s'),
        60_000,
      );
    } finally {
      server.process.kill('SIGCONT');
    }
    const result = await flush;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(readFileSync(log, 'utf8')).toContain('websocket: no traffic for 3 s');
    expect(JSON.parse(result.stdout)).toMatchObject({ pending: 0, dead: 0 });
    expect(counts(env)).toEqual({ pending: 0, delivered: 20_000, dead: 0 });
    expect(new Set(server.events().map((e) => e.event_id)).size).toBe(20_000);
    expect(server.events()).toHaveLength(20_000);
  });

  it('server down while 50 commits are made: all delivered once it is back', async () => {
    const data = tempDir();
    const first = await startRestartableServer({ data });
    const repo = await hookedRepo({ background: true });
    expect((await login(first.url, repo.dir, repo.env)).code).toBe(0);
    await first.stop();
    for (let i = 0; i < 50; i++) {
      repo.write(`${F}/WP${String(10 + (i % 25))}.md`, wp({ lane: i < 25 ? 'planned' : 'doing' }));
      repo.git('add', '-A');
      repo.git('commit', '-q', '-m', `move ${i}`);
    }
    const captured = await waitFor(
      () => counts(repo.env),
      (c) => c.pending >= 50,
    );
    expect(captured.pending).toBe(50);
    // 5 s: on a loaded machine the first refused connect must still be seen before the deadline
    const offline = await repo.run(['sync', 'flush', '--timeout', '5', '--json']);
    expect(offline.code).toBe(1);
    expect(JSON.parse(offline.stdout).why_pending).toMatch(/ECONNREFUSED|cannot reach|websocket|fetch failed/);

    const second = await startServer({ data, port: first.port });
    const flush = await repo.run(['sync', 'flush', '--timeout', '60', '--json']);
    expect(flush.code, flush.stdout + flush.stderr).toBe(0);
    expect(counts(repo.env)).toMatchObject({ pending: 0, delivered: 50 });
    expect(second.events()).toHaveLength(50);
  });

  it('a server that hangs (SIGSTOP) holds `sync flush` no longer than its --timeout, and loses nothing', async () => {
    const { server, env } = await loggedInWithQueue(300);
    server.process.kill('SIGSTOP');
    try {
      const hung = await runKittyAsync(['sync', 'flush', '--timeout', '2', '--json'], tempDir(), env);
      expect(hung.code).toBe(1);
      expect(JSON.parse(hung.stdout)).toMatchObject({ delivered: 0, pending: 300, why_pending: 'the server did not answer before the timeout' });
    } finally {
      server.process.kill('SIGCONT');
    }
    const flush = await runKittyHere(['sync', 'flush', '--json'], tempDir(), env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 300, pending: 0 });
    expect(server.events()).toHaveLength(300);
  });
});

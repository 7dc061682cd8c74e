import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/queue/queue.js';
import { CLI, runKittyHere, tempDir, wp } from '../helpers/gitdir.js';
import { F, hookedRepo, moves, queued, waitFor } from '../helpers/hooks.js';
import { refusingProxy } from '../helpers/proxy.js';
import { login, startServer } from '../helpers/server.js';
import { counts, enqueue, loggedInWithQueue } from '../helpers/sync.js';

describe('delivery to the reference server', () => {
  it('end to end: hooks queue, the flusher they start delivers, the server holds each event once', async () => {
    const server = await startServer();
    const repo = await hookedRepo({ background: true });
    repo.commit('plan before login', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }), [`${F}/WP02.md`]: wp({ lane: 'planned' }) } });
    await waitFor(
      () => queued(repo),
      (list) => list.length >= 2,
    );
    expect(queued(repo).every((event) => event.team_slug === 'local')).toBe(true);
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    repo.commit('start WP01', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    repo.commit('review WP01', { files: { [`${F}/WP01.md`]: wp({ lane: 'for_review' }) } });
    await waitFor(
      () => counts(repo.env),
      (c) => c.delivered >= 4,
    );
    expect(counts(repo.env)).toEqual({ pending: 0, delivered: 4, dead: 0 });
    const stored = server.events();
    expect(stored.map((e) => e.event_id).sort()).toEqual(
      queued(repo)
        .map((e) => e.event_id)
        .sort(),
    );
    expect(new Set(stored.map((e) => e.team_slug))).toEqual(new Set(['acme']));

    const flush = await repo.run(['sync', 'flush', '--json']);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 0, pending: 0 });
    const uuid = stored[0]!.project_uuid;
    const credentials = JSON.parse(readFileSync(join(repo.home, 'credentials.json'), 'utf8')) as { access: string };
    const board = (await (
      await fetch(`${server.url}/api/v1/projects/${uuid}/board/`, { headers: { authorization: `Bearer ${credentials.access}` } })
    ).json()) as {
      features: Record<string, Record<string, { lane: string }>>;
    };
    expect(board.features['001-demo']).toMatchObject({ WP01: { lane: 'for_review' }, WP02: { lane: 'planned' } });
    expect(moves(queued(repo))).toHaveLength(4);
  });

  it("draws a progress bar on a terminal's stderr only, and clears it before the summary", async () => {
    const { home, env } = await loggedInWithQueue(300);
    // util-linux `script` gives the command a real pseudo-terminal
    const tty = spawnSync('script', ['-qec', `'${process.execPath}' '${CLI}' sync flush`, '/dev/null'], { cwd: tempDir(), env, encoding: 'utf8' });
    expect(tty.status, tty.stdout + tty.stderr).toBe(0);
    expect(tty.stdout).toContain(`\rkitty sync flush: [${'#'.repeat(30)}] 300/300`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the bar is erased with a carriage return and an escape sequence
    expect(tty.stdout).toMatch(/\r\x1b\[K\s*kitty sync flush: 300 delivered/);
    enqueue(home, 50, 'y');
    const piped = await runKittyHere(['sync', 'flush'], tempDir(), env);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toBe('kitty sync flush: 50 delivered, 0 duplicate, 0 rejected; 0 still pending\n');
  });

  it('feeds the server clock to the Lamport clock: the next event is stamped after all the server holds', async () => {
    const { server, env: teammate } = await loggedInWithQueue(200);
    expect((await runKittyHere(['sync', 'flush'], tempDir(), teammate)).code).toBe(0);
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    expect((await repo.run(['sync', 'flush'])).code).toBe(0);
    repo.commit('start', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    expect(queued(repo).map((event) => event.lamport_clock)).toEqual([1, 201]);
  });

  it('an event the server rejects becomes dead with the reason; the rest are delivered; retry-dead re-queues it', async () => {
    const { server, env, cwd } = await loggedInWithQueue(5);
    const queue = EventQueue.open({ env });
    const [good] = queue.list().events;
    queue.enqueue([{ ...good!.envelope, event_id: '01JZZZZZZZZZZZZZZZZZZZZZZZ', payload: { ...good!.envelope.payload, wp_id: 'not-a-wp' } }]);
    queue.close();
    const flush = await runKittyHere(['sync', 'flush', '--json'], cwd, env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 5, rejected: 1, pending: 0, dead: 1 });
    const dead = JSON.parse((await runKittyHere(['events', 'list', '--state', 'dead', '--json'], cwd, env)).stdout) as { event_id: string }[];
    expect(dead.map((e) => e.event_id)).toEqual(['01JZZZZZZZZZZZZZZZZZZZZZZZ']);
    const status = JSON.parse((await runKittyHere(['sync', 'status', '--json'], cwd, env)).stdout) as { last_error: string; dead: number };
    expect(status.dead).toBe(1);
    expect(status.last_error).toContain('payload.wp_id must match WPnn');
    expect(JSON.parse((await runKittyHere(['sync', 'retry-dead', '--json'], cwd, env)).stdout)).toEqual({ moved: 1 });
    expect(server.events()).toHaveLength(5);
  });

  it('batch HTTP, when chosen (KITTY_TRANSPORT=http), delivers 1,200 events as the WebSocket does', async () => {
    const { server, env } = await loggedInWithQueue(1200, { KITTY_TRANSPORT: 'http' });
    const flush = await runKittyHere(['sync', 'flush', '--json'], tempDir(), env);
    expect(flush.code, flush.stderr).toBe(0);
    expect(JSON.parse(flush.stdout)).toMatchObject({ delivered: 1200, transport: 'http' });
    expect(server.events()).toHaveLength(1200);
  });

  it('behind a proxy that refuses WebSocket, the background flusher delivers over batch HTTP at once', async () => {
    const server = await startServer();
    const proxy = await refusingProxy(server.url);
    const repo = await hookedRepo({ background: true });
    expect((await login(proxy.url, repo.dir, repo.env)).code).toBe(0);
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }), [`${F}/WP02.md`]: wp({ lane: 'planned' }) } });
    repo.commit('start WP01', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    await waitFor(
      () => counts(repo.env),
      (c) => c.delivered >= 3,
      20_000,
    );
    const logs = () =>
      readdirSync(join(repo.home, 'logs'))
        .map((name) => readFileSync(join(repo.home, 'logs', name), 'utf8'))
        .join('');
    expect(counts(repo.env), logs()).toEqual({ pending: 0, delivered: 3, dead: 0 });
    expect(
      server
        .events()
        .map((e) => e.event_id)
        .sort(),
    ).toEqual(
      queued(repo)
        .map((e) => e.event_id)
        .sort(),
    );
    expect(proxy.upgrades).toBeGreaterThan(0);
    expect(proxy.forwarded).toContain('POST /api/v1/events/batch/');
    expect(readFileSync(join(repo.home, 'logs', 'flusher.log'), 'utf8')).toContain('the upgrade was answered HTTP 403: using batch HTTP');
  });
});

describe('when the flusher starts', () => {
  it('never starts when sync.auto_start is false: events stay queued for `kitty sync flush`', async () => {
    const server = await startServer();
    const repo = await hookedRepo({ background: true });
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    const config = join(repo.dir, '.kittify/config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('auto_start: true', 'auto_start: false'));
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }) } });
    await waitFor(
      () => counts(repo.env),
      (c) => c.pending >= 1,
    );
    await sleep(1500);
    expect(counts(repo.env)).toMatchObject({ pending: 1, delivered: 0 });
    expect(server.events()).toEqual([]);
    expect(JSON.parse((await repo.run(['sync', 'status', '--json'])).stdout)).toMatchObject({ pending: 1, flusher_pid: null, logged_in: true });
    expect((await repo.run(['sync', 'flush'])).code).toBe(0);
    expect(server.events()).toHaveLength(1);
  });
});

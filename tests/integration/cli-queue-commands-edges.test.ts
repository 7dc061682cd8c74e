import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from '../../src/deps/better-sqlite3.js';
import { EventQueue } from '../../src/queue/queue.js';
import { draft } from '../helpers/events.js';
import { fakeSync, writeCredentials } from '../helpers/fake-sync.js';
import { gitdir, runKittyHere, tempDir, testEnv } from '../helpers/gitdir.js';
import { serverInProcess } from '../helpers/server.js';

function enqueue(env: NodeJS.ProcessEnv, drafts: Parameters<EventQueue['enqueue']>[0]): void {
  const queue = EventQueue.open({ env });
  try {
    queue.enqueue(drafts);
  } finally {
    queue.close();
  }
}

/** The queue as an older kitty (or a clock going back) left it: the events were queued `ms` ago. */
function queuedAgo(home: string, ms: number): void {
  const db = new Database(join(home, 'queue.db'));
  try {
    db.prepare('UPDATE events SET created_at = ?').run(new Date(Date.now() - ms).toISOString());
  } finally {
    db.close();
  }
}

describe('kitty auth login refuses what it cannot use, before any request', () => {
  const env = (home: string) => testEnv(home);

  it('no server anywhere: KITTY_ERR_NO_SERVER', async () => {
    const result = await runKittyHere(['auth', 'login', '--username', 'demo', '--password-stdin'], tempDir(), env(tempDir()), 'pw');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'kitty: error KITTY_ERR_NO_SERVER: no sync server URL is configured; hint: pass it: `kitty auth login --server https://kitty.example.com` (or set KITTY_SERVER_URL)\n',
    );
  });

  it('no username, no password on a pipe, an empty password: KITTY_ERR_USAGE each with its hint', async () => {
    const cwd = tempDir();
    const home = tempDir();
    const server = ['--server', 'http://127.0.0.1:9'];
    const noUser = await runKittyHere(['auth', 'login', ...server, '--password-stdin'], cwd, env(home), 'pw');
    expect([noUser.code, noUser.stderr]).toEqual([2, 'kitty: error KITTY_ERR_USAGE: kitty auth login: no username given; hint: pass --username NAME\n']);
    const noTty = await runKittyHere(['auth', 'login', ...server, '--username', 'demo'], cwd, env(home), 'pw');
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toBe(
      'kitty: error KITTY_ERR_USAGE: kitty auth login: stdin is not a terminal, so the password cannot be asked for; hint: pipe it with --password-stdin: `printf %s "$PASS" | kitty auth login --password-stdin`\n',
    );
    const empty = await runKittyHere(['auth', 'login', ...server, '--username', 'demo', '--password-stdin'], cwd, env(home), '');
    expect([empty.code, empty.stderr]).toEqual([
      2,
      'kitty: error KITTY_ERR_USAGE: kitty auth login: the password is empty; hint: give the password on stdin with --password-stdin\n',
    ]);
  });

  it('a broken credentials file is replaced by the login; the next login reuses its server and username', async () => {
    const server = await serverInProcess();
    const home = tempDir();
    const cwd = tempDir();
    writeFileSync(join(home, 'credentials.json'), '{"server_url": ', { mode: 0o600 });
    const first = await runKittyHere(['auth', 'login', '--server', server.url, '--username', 'demo', '--password-stdin'], cwd, env(home), 'demo-pass');
    expect(first.stdout).toBe(`kitty: logged in to ${server.url} as demo (team acme); sync is on\n`);
    const again = await runKittyHere(['auth', 'login', '--password-stdin', '--json'], cwd, env(home), 'demo-pass');
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ server_url: server.url, username: 'demo', team_slug: 'acme', credentials_file: join(home, 'credentials.json') });
  });
});

describe('kitty sync flush summarizes what the server did and what is left', () => {
  it('refuses a timeout that is no positive number, and runs nothing without a login', async () => {
    const home = tempDir();
    for (const timeout of ['0', '-3', 'soon']) {
      const result = await runKittyHere(['sync', 'flush', `--timeout=${timeout}`], tempDir(), testEnv(home));
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `kitty: error KITTY_ERR_USAGE: kitty sync flush: --timeout must be a positive number of seconds, got "${timeout}"; hint: e.g. \`kitty sync flush --timeout 30\`\n`,
      );
    }
    const loggedOut = await runKittyHere(['sync', 'flush'], tempDir(), testEnv(home));
    expect(loggedOut.code).toBe(1);
    expect(loggedOut.stderr).toBe(
      'kitty: error KITTY_ERR_NOT_LOGGED_IN: not logged in: events stay queued locally; hint: run `kitty auth login --server URL`, then `kitty sync flush`\n',
    );
  });

  it('rejections for the Lamport clock and for other reasons each get their advice; local-only events are why some stay pending', async () => {
    const server = await fakeSync({
      judge: (event) => (event.event_id.endsWith('1') ? 'lamport_clock too far ahead' : event.event_id.endsWith('2') ? 'bad payload' : null),
    });
    const home = tempDir();
    writeCredentials(home, server.url);
    const env = testEnv(home);
    enqueue(env, [
      draft('01KA0000000000000000000001'),
      draft('01KA0000000000000000000002'),
      draft('01KA0000000000000000000003'),
      draft('01KA0000000000000000000004', { project_uuid: null as unknown as string }),
    ]);
    const result = await runKittyHere(['sync', 'flush', '--timeout', '20'], tempDir(), env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        'kitty sync flush: 1 delivered, 0 duplicate, 2 rejected; 1 still pending (1 events have no project_uuid and stay local)',
        '1 events were rejected for their Lamport clock: run `kitty sync reset-clock`, then `kitty sync flush`',
        'rejected events are dead letters: see `kitty events list --state dead`, retry with `kitty sync retry-dead`',
        '',
      ].join('\n'),
    );
    expect([...server.received.keys()].sort()).toEqual(['01KA0000000000000000000001', '01KA0000000000000000000002', '01KA0000000000000000000003']);
    const dead = await runKittyHere(['events', 'list', '--state', 'dead', '--json'], tempDir(), env);
    expect((JSON.parse(dead.stdout) as { event_id: string }[]).map((event) => event.event_id)).toEqual([
      '01KA0000000000000000000001',
      '01KA0000000000000000000002',
    ]);
  });

  it('a server clock past any sane value is ignored with a warning; --json summarizes the run', async () => {
    const server = await fakeSync({ serverClock: 2 ** 50 });
    const home = tempDir();
    writeCredentials(home, server.url);
    const env = testEnv(home);
    enqueue(env, [draft('01KA0000000000000000000005')]);
    const result = await runKittyHere(['sync', 'flush', '--json'], tempDir(), env);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      delivered: 1,
      duplicate: 0,
      rejected: 0,
      too_large: 0,
      pending: 0,
      dead: 0,
      transport: 'websocket',
      why_pending: null,
    });
    expect(result.stderr).toMatch(/^kitty: warning: ignored the server's Lamport clock: .*; this machine's clock stays at \d+\n$/);
  });

  it('over HTTP, events carrying a poisoned Lamport value are restamped, then delivered, with a warning', async () => {
    const server = await fakeSync();
    const home = tempDir();
    writeCredentials(home, server.url);
    const env = testEnv(home, { KITTY_TRANSPORT: 'http' });
    enqueue(env, [draft('01KA0000000000000000000006'), draft('01KA0000000000000000000007')]);
    // as a server that handed out an absurd clock left a queue before kitty bounded it
    const db = new Database(join(home, 'queue.db'));
    db.prepare(
      "UPDATE events SET lamport_clock = lamport_clock + 2251799813685248, envelope = json_set(envelope, '$.lamport_clock', lamport_clock + 2251799813685248)",
    ).run();
    db.close();
    const result = await runKittyHere(['sync', 'flush', '--json'], tempDir(), env);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ delivered: 2, pending: 0, transport: 'http' });
    expect(result.stderr).toMatch(/^kitty: warning: 2 pending events carried a Lamport value above 2\^48 .*restamped them, this machine's clock is now \d+\n$/);
    const clocks = [...server.received.values()].map((event) => event.lamport_clock);
    expect(clocks.every((clock) => clock < 2 ** 48)).toBe(true);
  });
});

describe('kitty sync status', () => {
  it('a broken credentials file turns sync off with the reason; local-only events and the age of the oldest are shown', async () => {
    const home = tempDir();
    const env = testEnv(home);
    writeFileSync(join(home, 'credentials.json'), 'not json', { mode: 0o600 });
    enqueue(env, [draft('01KA0000000000000000000008'), draft('01KA0000000000000000000009', { project_uuid: null as unknown as string })]);
    queuedAgo(home, 5 * 60_000);
    const minutes = await runKittyHere(['sync', 'status'], tempDir(), env);
    expect(minutes.code).toBe(0);
    const lines = minutes.stdout.split('\n');
    expect(lines[0]).toBe('queue: 2 pending, 0 delivered, 0 dead (1 local only: no project_uuid)');
    expect(lines[1]).toBe('oldest pending: 5m old');
    expect(lines.at(-2)).toMatch(/^sync is off: .+\. Turn it on with `kitty auth login --server URL`$/);
    expect(lines.at(-2)).not.toContain('not logged in');
    const json = JSON.parse((await runKittyHere(['sync', 'status', '--json'], tempDir(), env)).stdout) as { logged_in: boolean; login_error: string | null };
    expect(json.logged_in).toBe(false);
    expect(json.login_error).toEqual(expect.any(String));
    queuedAgo(home, 3 * 3600_000);
    expect((await runKittyHere(['sync', 'status'], tempDir(), env)).stdout).toContain('oldest pending: 3h old\n');
  });

  it('after a flush that found no server, the last error is shown with how long ago it was', async () => {
    const server = await fakeSync();
    const home = tempDir();
    writeCredentials(home, server.url);
    await server.close();
    // the next command resumes delivery in the background: that flusher gives up after one attempt
    const env = testEnv(home, { KITTY_TRANSPORT: 'http', KITTY_SYNC_BACKOFF: '1:1:1' });
    enqueue(env, [draft('01KA000000000000000000000A')]);
    const flush = await runKittyHere(['sync', 'flush', '--timeout', '1'], tempDir(), env);
    expect(flush.code).toBe(1);
    expect(flush.stdout).toMatch(/^kitty sync flush: 0 delivered, 0 duplicate, 0 rejected; 1 still pending \(.+\)\n$/);
    const status = await runKittyHere(['sync', 'status'], tempDir(), env);
    expect(status.stdout).toMatch(/\nlast error: .+ \(\d+s ago\)\n/);
  });
});

describe('kitty events list', () => {
  it('refuses a limit that is not a positive whole number', async () => {
    for (const limit of ['0', '2.5', 'ten']) {
      const result = await runKittyHere(['events', 'list', '--limit', limit], tempDir(), testEnv(tempDir()));
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `kitty: error KITTY_ERR_USAGE: kitty events list: --limit must be a positive whole number, got "${limit}"; hint: e.g. \`kitty events list --limit 20\`\n`,
      );
    }
  });

  it("in a project, --limit counts that project's events only; an empty project says so for every state", async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    const { project_uuid: uuid } = JSON.parse((await repo.run(['init', '--json'])).stdout) as { project_uuid: string };
    const other = '9f8e7d6c-5b4a-4321-8fed-cba987654321';
    expect((await repo.run(['events', 'list', '--state', 'all'])).stdout).toMatch(/^no events of project \S+ \(--all-projects for every project\)\n$/);
    enqueue(repo.env, [
      draft('01KA000000000000000000000B', { project_uuid: other }),
      draft('01KA000000000000000000000C', { project_uuid: uuid }),
      draft('01KA000000000000000000000D', { project_uuid: other }),
      draft('01KA000000000000000000000E', { project_uuid: uuid }),
    ]);
    const listed = await repo.run(['events', 'list', '--limit', '1', '--json']);
    expect((JSON.parse(listed.stdout) as { event_id: string }[]).map((event) => event.event_id)).toEqual(['01KA000000000000000000000C']);
    const everywhere = await repo.run(['events', 'list', '--limit', '3', '--all-projects', '--json']);
    expect((JSON.parse(everywhere.stdout) as unknown[]).length).toBe(3);
  });

  it('marks local-only events and shows a move with no lanes as ∅ → ?', async () => {
    const env = testEnv(tempDir());
    enqueue(env, [draft('01KA000000000000000000000F', { project_uuid: null as unknown as string, payload: { wp_id: 'WP01', feature_slug: 'f' } })]);
    const result = await runKittyHere(['events', 'list'], tempDir(), env);
    expect(result.code).toBe(0);
    const [header, row] = result.stdout.split('\n');
    expect(header).toMatch(/^EVENT ID +STATE +CLOCK +WORK PACKAGE +MOVE +TIME +NOTE$/);
    expect(row).toMatch(/^01KA000000000000000000000F +pending +1 +f\/WP01 +∅ → \? +2026-01-01T00:00:00Z +local only$/);
  });

  it('a config kitty cannot read is warned about, and every project is listed', async () => {
    const repo = gitdir();
    repo.write('.kittify/config.yaml', 'project:\n  uuid: 7d1f2a3b-4c5d-4e6f-8a9b\n  slug: [demo\n');
    enqueue(repo.env, [draft('01KA000000000000000000000G')]);
    const result = await repo.run(['events', 'list', '--json']);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { event_id: string }[]).map((event) => event.event_id)).toEqual(['01KA000000000000000000000G']);
    expect(result.stderr).toMatch(/^kitty: warning: KITTY_ERR_CONFIG_UUID_LOST: project\.uuid in .* cannot be read .*; listing every project\n$/);
  });
});

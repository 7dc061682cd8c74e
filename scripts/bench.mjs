#!/usr/bin/env node
// Benchmark, not a test: prints `name: value` figures and writes them to bench/results.json.
// Nothing here asserts on time. Generated repositories are cached in bench/.work/.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from '../dist/deps/better-sqlite3.js';
import { logArgs } from '../dist/git/log.js';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const work = join(root, 'bench', '.work');
const figures = {};

function figure(name, value) {
  figures[name] = value;
  process.stdout.write(`${name}: ${value}\n`);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const LANES = ['planned', 'doing', 'for_review', 'done'];

/** A repository of `commits` commits over `wps` work packages (10 per feature), built with fast-import. */
function generateRepo(dir, commits, wps) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  const chunks = [];
  const histories = new Map();
  const statusLogs = new Map();
  const t0 = Date.parse('2025-01-01T00:00:00Z') / 1000;
  const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  for (let i = 0; i < commits; i++) {
    const n = i % wps;
    const feature = `${String(Math.floor(n / 10) + 1).padStart(3, '0')}-feature`;
    const wp = `WP${String((n % 10) + 1).padStart(2, '0')}`;
    const key = `${feature}/${wp}`;
    const history = histories.get(key) ?? [];
    const time = t0 + i * 60;
    const lane = LANES[history.length % LANES.length];
    history.push(`  - timestamp: "${new Date(time * 1000).toISOString()}"\n    lane: ${lane}\n    agent: agent-${i % 7}`);
    histories.set(key, history);
    const file = `---\nwork_package_id: ${wp}\ntitle: Work package ${key}\nlane: ${lane}\nhistory:\n${history.join('\n')}\n---\n\n# ${key}\n\nSome description of the work.\n`;
    let ops = `M 100644 inline kitty-specs/${feature}/tasks/${wp}-work.md\n${data(file)}`;
    if (i % 10 === 9) {
      const log = statusLogs.get(feature) ?? '';
      const line = JSON.stringify({
        event_id: `01JBENCH${String(i).padStart(18, '0')}`,
        wp_id: wp,
        from_lane: 'planned',
        to_lane: 'claimed',
        at: new Date(time * 1000).toISOString(),
        actor: { display: 'bench', id: 'b', kind: 'agent' },
        mission_slug: feature,
      });
      statusLogs.set(feature, `${log}${line}\n`);
      ops += `M 100644 inline kitty-specs/${feature}/status.events.jsonl\n${data(statusLogs.get(feature))}`;
    }
    chunks.push(
      `commit refs/heads/main\nmark :${i + 1}\nauthor Bench <bench@example.com> ${time} +0000\ncommitter Bench <bench@example.com> ${time} +0000\n${data(`move ${key} to ${lane}`)}${i > 0 ? `from :${i}\n` : ''}${ops}`,
    );
  }
  execFileSync('git', ['fast-import', '--quiet'], { cwd: dir, input: chunks.join('') });
  execFileSync('git', ['reset', '-q', '--hard', 'main'], { cwd: dir });
}

function timedRun(args, cwd, env) {
  return new Promise((resolvePromise, reject) => {
    const rssFile = join(work, `rss-${process.pid}.txt`);
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [join(root, 'bench', 'rss.mjs'), rssFile, cli, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk) => (bytes += chunk.length));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) return reject(new Error(`kitty ${args.join(' ')} exited ${code}: ${stderr}`));
      resolvePromise({ ms, rssKb: Number(readFileSync(rssFile, 'utf8')), bytes });
    });
  });
}

async function benchDerive() {
  const commits = 5000;
  const wps = 500;
  const dir = join(work, `repo-${commits}-${wps}`);
  if (!existsSync(join(dir, '.git', 'kitty-bench-ready'))) {
    process.stderr.write(`bench: generating ${commits} commits over ${wps} work packages…\n`);
    generateRepo(dir, commits, wps);
    writeFileSync(join(dir, '.git', 'kitty-bench-ready'), '');
  }
  const env = { ...process.env, KITTY_HOME: join(work, 'home-derive') };
  rmSync(env.KITTY_HOME, { recursive: true, force: true });
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await timedRun(['derive', '--dry-run', '--json'], dir, env));
  const events = JSON.parse(spawnSync(process.execPath, [cli, 'derive', '--dry-run', '--json'], { cwd: dir, env, maxBuffer: 1 << 30 }).stdout).length;
  const ms = median(runs.map((run) => run.ms));
  figure('derive_commits', commits);
  figure('derive_events', events);
  figure('derive_seconds', (ms / 1000).toFixed(2));
  figure('derive_commits_per_s', Math.round(commits / (ms / 1000)));
  figure('derive_peak_rss_mb', Math.round(Math.max(...runs.map((run) => run.rssKb)) / 1024));
}

/**
 * The git commands alone that any reader of the history needs: `git log --raw`, then every changed
 * WP and log blob. `piped`: cat-file's output goes through a pipe to a reader that drops it (`cat`),
 * as any reader's input must, instead of straight to /dev/null.
 */
function gitFloor(dir, piped = false) {
  const start = process.hrtime.bigint();
  const log = spawnSync('git', logArgs(['HEAD'], [':(top)kitty-specs']), { cwd: dir, maxBuffer: 1 << 30 });
  const logMs = Number(process.hrtime.bigint() - start) / 1e6;
  const blobs = new Set();
  const tokens = log.stdout.toString('latin1').split('\0');
  for (let i = 0; i < tokens.length; i++) {
    if (!tokens[i].replace(/^\n/, '').startsWith(':')) continue;
    const path = tokens[++i] ?? '';
    const sha = tokens[i - 1].trim().split(' ').at(-2);
    if (/^kitty-specs\/[^/]+\/(status\.events\.jsonl|tasks\/(?:[^/]+\/)?WP\d+[^/]*\.md)$/.test(path) && !/^0+$/.test(sha)) blobs.add(sha);
  }
  const input = `${[...blobs].join('\n')}\n`;
  const catStart = process.hrtime.bigint();
  const [command, args] = piped ? ['sh', ['-c', 'git cat-file --batch | cat >/dev/null']] : ['git', ['cat-file', '--batch']];
  const cat = spawnSync(command, args, { cwd: dir, input, stdio: ['pipe', 'ignore', 'inherit'] });
  if (log.status !== 0 || cat.status !== 0) throw new Error('bench: the git floor failed');
  return { ms: logMs + Number(process.hrtime.bigint() - catStart) / 1e6, blobs: blobs.size };
}

/** A history shaped like a real one (bench/history.mjs), kitty against git's own floor, in turn. */
async function benchDeriveReal() {
  const { generateHistory } = await import('../bench/history.mjs');
  const dir = join(work, 'real-5000');
  const ready = join(dir, '.git', 'kitty-bench-ready');
  if (!existsSync(ready)) {
    process.stderr.write('bench: generating a 5,000-commit history shaped like a real one…\n');
    const generated = generateHistory(dir, { seed: 7, commits: 5000, features: 300, wpsPerFeature: 8, bodyBytes: 3000, hugeLineBytes: 20_000_000 });
    writeFileSync(ready, JSON.stringify({ truth: generated.truth.length }));
  }
  const truth = JSON.parse(readFileSync(ready, 'utf8')).truth;
  const env = { ...process.env, KITTY_HOME: join(work, 'home-derive-real') };
  rmSync(env.KITTY_HOME, { recursive: true, force: true });
  const kitty = [];
  const floor = [];
  const piped = [];
  for (let i = 0; i < 3; i++) {
    floor.push(gitFloor(dir));
    piped.push(gitFloor(dir, true));
    kitty.push(await timedRun(['derive', '--dry-run', '--json'], dir, env));
  }
  const events = JSON.parse(spawnSync(process.execPath, [cli, 'derive', '--dry-run', '--json'], { cwd: dir, env, maxBuffer: 1 << 30 }).stdout);
  const ms = median(kitty.map((run) => run.ms));
  const floorMs = median(floor.map((run) => run.ms));
  figure('derive_real_commits', Number(execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: dir }).toString().trim()));
  figure('derive_real_events', events.length);
  figure('derive_real_truth_events', truth);
  figure('derive_real_distinct_event_ids', new Set(events.map((event) => event.event_id)).size);
  figure('derive_real_seconds', (ms / 1000).toFixed(2));
  figure('derive_real_commits_per_s', Math.round(figures.derive_real_commits / (ms / 1000)));
  figure('derive_real_peak_rss_mb', Math.round(Math.max(...kitty.map((run) => run.rssKb)) / 1024));
  figure('derive_real_floor_blobs', floor[0].blobs);
  figure('derive_real_floor_seconds', (floorMs / 1000).toFixed(2));
  figure('derive_real_floor_ratio', (ms / floorMs).toFixed(2));
  const pipedMs = median(piped.map((run) => run.ms));
  figure('derive_real_floor_piped_seconds', (pipedMs / 1000).toFixed(2));
  figure('derive_real_floor_piped_ratio', (ms / pipedMs).toFixed(2));
}

/** A status log line of `bytes` bytes in one commit: deriving that commit alone. */
async function benchHugeLine() {
  const dir = join(work, 'huge-line');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'kitty-specs/001-huge'), { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  const line = JSON.stringify({
    event_id: '01KA0000000000000000000001',
    wp_id: 'WP01',
    from_lane: 'planned',
    to_lane: 'doing',
    at: '2026-01-01T00:00:00Z',
    note: 'x'.repeat(50 * 1024 * 1024),
  });
  writeFileSync(join(dir, 'kitty-specs/001-huge/status.events.jsonl'), `${line}\n`);
  const env = benchEnv(join(work, 'home-huge'));
  execFileSync('git', ['add', '-A'], { cwd: dir, env });
  execFileSync('git', ['commit', '-q', '-m', 'huge line'], { cwd: dir, env });
  const run = await timedRun(['derive', '--dry-run', '--json'], dir, env);
  figure('derive_50mb_line_seconds', (run.ms / 1000).toFixed(2));
  figure('derive_50mb_line_peak_rss_mb', Math.round(run.rssKb / 1024));
}

function gitRepo(dir, env) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'kitty-specs/001-bench/tasks'), { recursive: true });
  const git = (...args) =>
    execFileSync('git', args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
      .toString()
      .trim();
  git('init', '-q', '-b', 'main');
  for (let i = 1; i <= 20; i++) writeFileSync(join(dir, `kitty-specs/001-bench/tasks/WP${String(i).padStart(2, '0')}.md`), '---\nlane: planned\n---\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'plan');
  return git;
}

function benchEnv(home) {
  return {
    ...process.env,
    KITTY_HOME: home,
    GIT_AUTHOR_NAME: 'Bench',
    GIT_AUTHOR_EMAIL: 'bench@example.com',
    GIT_COMMITTER_NAME: 'Bench',
    GIT_COMMITTER_EMAIL: 'bench@example.com',
    GIT_CONFIG_NOSYSTEM: '1',
    CI: '',
  };
}

function timeGit(dir, env, args) {
  const start = process.hrtime.bigint();
  const result = spawnSync('git', args, { cwd: dir, env, stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed in ${dir}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function queueCounter(home) {
  let db = null;
  return () => {
    try {
      db ??= new Database(join(home, 'queue.db'), { readonly: true, fileMustExist: true });
      return db.prepare('SELECT COUNT(*) AS n FROM events').get().n;
    } catch {
      return 0;
    }
  };
}

async function sleep(ms) {
  await new Promise((r) => setTimeout(r, ms));
}

/** `git commit` with kitty's hooks over without, measured alternately in twin repositories. */
async function benchCommitOverhead() {
  const home = join(work, 'home-hooks');
  rmSync(home, { recursive: true, force: true });
  const env = benchEnv(home);
  const dirs = { plain: join(work, 'commit-plain'), hooked: join(work, 'commit-hooked') };
  for (const dir of Object.values(dirs)) gitRepo(dir, env);
  execFileSync(process.execPath, [cli, 'hooks', 'install'], { cwd: dirs.hooked, env, stdio: 'ignore' });
  execFileSync('git', ['add', '-A'], { cwd: dirs.hooked, env });
  execFileSync('git', ['commit', '-q', '-m', 'identity'], { cwd: dirs.hooked, env, stdio: 'ignore' });
  const times = { plain: [], hooked: [] };
  const lanes = ['doing', 'for_review', 'done', 'planned'];
  for (let i = 0; i < 40; i++) {
    for (const kind of i % 2 ? ['plain', 'hooked'] : ['hooked', 'plain']) {
      const dir = dirs[kind];
      writeFileSync(
        join(dir, `kitty-specs/001-bench/tasks/WP${String((i % 20) + 1).padStart(2, '0')}.md`),
        `---\nlane: ${lanes[Math.floor(i / 20) % 4]}\n---\n`,
      );
      execFileSync('git', ['add', '-A'], { cwd: dir, env });
      times[kind].push(timeGit(dir, env, ['commit', '-q', '-m', `move ${i}`]));
    }
    // let the background worker finish, as between a person's commits
    await sleep(250);
  }
  const plain = median(times.plain);
  const hooked = median(times.hooked);
  figure('commit_ms_without_hooks', plain.toFixed(1));
  figure('commit_ms_with_hooks', hooked.toFixed(1));
  figure('commit_overhead_ratio', (hooked / plain).toFixed(2));
}

/** A 20-commit rebase with hooks over without; then commit-to-queue latency. */
async function benchRebaseAndLatency() {
  const home = join(work, 'home-rebase');
  rmSync(home, { recursive: true, force: true });
  const env = benchEnv(home);
  const dirs = { plain: join(work, 'rebase-plain'), hooked: join(work, 'rebase-hooked') };
  for (const [kind, dir] of Object.entries(dirs)) {
    const git = gitRepo(dir, env);
    if (kind === 'hooked') {
      execFileSync(process.execPath, [cli, 'hooks', 'install'], { cwd: dir, env, stdio: 'ignore' });
      git('add', '-A');
      git('commit', '-q', '-m', 'identity');
    }
    git('checkout', '-q', '-b', 'feature');
    for (let i = 1; i <= 20; i++) {
      writeFileSync(join(dir, `kitty-specs/001-bench/tasks/WP${String(i).padStart(2, '0')}.md`), '---\nlane: doing\n---\n');
      git('commit', '-q', '-am', `start WP${i}`);
    }
    git('checkout', '-q', 'main');
    writeFileSync(join(dir, 'NOTES.md'), 'upstream work\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'upstream');
    git('checkout', '-q', 'feature');
    git('tag', 'before-rebase');
  }
  await sleep(1500);
  const times = { plain: [], hooked: [] };
  for (let i = 0; i < 5; i++) {
    for (const kind of ['plain', 'hooked']) {
      const dir = dirs[kind];
      execFileSync('git', ['reset', '-q', '--hard', 'before-rebase'], { cwd: dir, env });
      times[kind].push(timeGit(dir, env, ['rebase', '-q', '--force-rebase', 'main']));
      await sleep(500);
    }
  }
  figure('rebase20_ms_without_hooks', median(times.plain).toFixed(0));
  figure('rebase20_ms_with_hooks', median(times.hooked).toFixed(0));
  figure('rebase20_ratio', (median(times.hooked) / median(times.plain)).toFixed(2));

  const dir = dirs.hooked;
  execFileSync('git', ['checkout', '-q', 'main'], { cwd: dir, env });
  await sleep(1000);
  const latencies = [];
  const queueCount = queueCounter(home);
  for (let i = 0; i < 15; i++) {
    const before = queueCount();
    // four lanes in turn: one move repeats only every 4 commits, never within the author date's one second
    // (two identical moves of a WP in one second are one transition, as an amend's are)
    writeFileSync(join(dir, 'kitty-specs/001-bench/tasks/WP01.md'), `---\nlane: ${['for_review', 'done', 'planned', 'doing'][i % 4]}\n---\n`);
    execFileSync('git', ['add', '-A'], { cwd: dir, env });
    const start = Date.now();
    timeGit(dir, env, ['commit', '-q', '-m', `latency ${i}`]);
    while (queueCount() <= before && Date.now() - start < 10_000) await sleep(5);
    latencies.push(Date.now() - start);
    await sleep(200);
  }
  figure('capture_latency_ms_p50', median(latencies));
  figure('capture_latency_ms_max', Math.max(...latencies));
}

/** 10,000 queued events flushed to a local `kitty server` over the WebSocket, with per-event acks. */
async function benchFlush() {
  const { EventQueue } = await import('../dist/queue/queue.js');
  const { monotonicFactory } = await import('ulid');
  const home = join(work, 'home-flush');
  const data = join(work, 'server-flush');
  for (const dir of [home, data]) rmSync(dir, { recursive: true, force: true });
  const env = benchEnv(home);
  const server = spawn(process.execPath, [cli, 'server', '--port', '0', '--data', data, '--user', 'bench:bench-pass:bench'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolvePromise) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolvePromise(line.replace('kitty server: listening on ', ''));
    });
  });
  try {
    execFileSync(process.execPath, [cli, 'auth', 'login', '--server', url, '--username', 'bench', '--password-stdin'], {
      env,
      input: 'bench-pass',
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    const count = 10_000;
    const ulid = monotonicFactory();
    const queue = EventQueue.open({ env });
    const now = new Date().toISOString();
    const drafts = Array.from({ length: count }, (_, i) => ({
      event_id: ulid(),
      event_type: 'WPStatusChanged',
      aggregate_id: `WP${String((i % 90) + 10)}`,
      aggregate_type: 'WorkPackage',
      payload: {
        wp_id: `WP${String((i % 90) + 10)}`,
        feature_slug: `${String(Math.floor(i / 90)).padStart(3, '0')}-bench`,
        from_lane: 'planned',
        to_lane: 'doing',
        actor: 'bench',
        transition_key: `bench-${i}`,
        source: 'frontmatter',
      },
      timestamp: now,
      node_id: 'abcdefabcdef',
      causation_id: null,
      team_slug: 'local',
      project_uuid: '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e',
      project_slug: 'bench',
      git: { commit: '0'.repeat(40), branch: 'main', author_date: now },
      schema_version: '1.0.0',
    }));
    // a flush with nothing to send: the start and exit every flush pays, apart from sending
    const empty = [];
    for (let i = 0; i < 3; i++) empty.push((await timedRun(['sync', 'flush', '--json'], root, env)).ms);
    queue.enqueue(drafts);
    queue.close();
    const run = await timedRun(['sync', 'flush', '--json', '--timeout', '120'], root, env);
    const stored = new Database(join(data, 'server.db'), { readonly: true });
    const held = stored.prepare('SELECT COUNT(*) AS n FROM events').get().n;
    stored.close();
    figure('flush_events', count);
    figure('flush_server_events', held);
    figure('flush_seconds', (run.ms / 1000).toFixed(2));
    figure('flush_events_per_s', Math.round(count / (run.ms / 1000)));
    figure('flush_empty_seconds', (median(empty) / 1000).toFixed(2));
    figure('flush_stream_events_per_s', Math.round(count / ((run.ms - median(empty)) / 1000)));
    figure('flusher_peak_rss_mb', Math.round(run.rssKb / 1024));
  } finally {
    server.kill('SIGTERM');
  }
}

/**
 * A throwaway PostgreSQL cluster in `dir` (Debian's binaries; as root, owned by the postgres user,
 * since initdb refuses root), on a random loopback port, with PostgreSQL's default durability.
 */
function startPostgres(dir) {
  const bins = ['/usr/lib/postgresql'].filter(existsSync).flatMap((base) => readdirSync(base).map((version) => join(base, version, 'bin')));
  const bin = process.env.PATH.split(':').find((path) => existsSync(join(path, 'initdb'))) ?? bins.sort().at(-1);
  const user = process.getuid() === 0 ? (spawnSync('id', ['-u', 'postgres']).status === 0 ? 'postgres' : 'nobody') : null;
  const run = (command, args) =>
    execFileSync(user ? 'runuser' : command, user ? ['-u', user, '--', command, ...args] : args, { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (user) execFileSync('chown', [user, dir]);
  run(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'kitty', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  let port;
  for (let attempt = 1; ; attempt++) {
    // a random port: pg_ctl fails when it is taken, and the next one is tried
    port = 40_000 + Math.floor(Math.random() * 10_000);
    try {
      run(join(bin, 'pg_ctl'), [
        '-D',
        join(dir, 'data'),
        '-l',
        join(dir, 'log'),
        '-w',
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=100`,
        'start',
      ]);
      break;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
  const url = (database) => `postgres://kitty@127.0.0.1:${port}/${database}`;
  return {
    async createDatabase(name) {
      const { default: pg } = await import('pg');
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      return url(name);
    },
    stop: () => run(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'fast', 'stop']),
  };
}

/**
 * The reference server under load and under abuse, each on a fresh `kitty server` process:
 * events stored per second from 8 concurrent WebSocket clients (frames of 100, at most 1,000 events
 * unacknowledged each, as the flusher sends them), and the server's peak RSS (VmHWM) while 10
 * clients stream oversized bodies at the login and batch endpoints for a few seconds. The same
 * 8 clients also send into 2 instances on one PostgreSQL (4 on each): the team deployment.
 */
async function benchServer() {
  const { default: WebSocket } = await import('ws');
  const { connect } = await import('node:net');
  const { monotonicFactory } = await import('ulid');
  const start = async (name, database) => {
    const data = join(work, name);
    rmSync(data, { recursive: true, force: true });
    const store = database ? ['--database', database] : ['--data', data];
    const child = spawn(process.execPath, [cli, 'server', '--port', '0', ...store, '--user', 'bench:bench-pass:bench'], {
      env: benchEnv(join(work, `${name}-home`)),
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const url = await new Promise((resolvePromise) => {
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('\n')) resolvePromise(out.split('\n')[0].replace('kitty server: listening on ', ''));
      });
    });
    const post = async (path, body, token) =>
      (
        await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        })
      ).json();
    const { access } = await post('/api/v1/token/', { username: 'bench', password: 'bench-pass' });
    return { child, url, data, access, post };
  };
  const ulid = monotonicFactory();
  const event = (client, i) => ({
    event_id: ulid(),
    event_type: 'WPStatusChanged',
    aggregate_id: `WP${String((i % 90) + 10)}`,
    aggregate_type: 'WorkPackage',
    payload: {
      wp_id: `WP${String((i % 90) + 10)}`,
      feature_slug: `${String(client).padStart(3, '0')}-bench`,
      from_lane: 'planned',
      to_lane: 'doing',
      actor: 'bench',
      transition_key: `bench-${client}-${i}`,
      source: 'frontmatter',
    },
    timestamp: new Date().toISOString(),
    node_id: `00000000000${client}`,
    lamport_clock: i + 1,
    causation_id: null,
    team_slug: 'local',
    project_uuid: '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e',
    project_slug: 'bench',
    git: { commit: '0'.repeat(40), branch: 'main', author_date: new Date().toISOString() },
    schema_version: '1.0.0',
  });
  // one client: frames of 100, a new frame whenever an ack leaves room under 1,000 in flight
  const sendAll = async (server, client, count) => {
    const { ws_token: token } = await server.post('/api/v1/ws-token/', {}, server.access);
    return new Promise((resolvePromise, reject) => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws/v1/events/`, {
        headers: { authorization: `Bearer ${token}` },
        perMessageDeflate: false,
      });
      const frames = Array.from({ length: count / 100 }, (_, f) => Array.from({ length: 100 }, (_, i) => event(client, f * 100 + i)));
      let sent = 0;
      let stored = 0;
      let acked = 0;
      const pump = () => {
        while (sent < frames.length && sent - acked < 10) ws.send(JSON.stringify({ type: 'events', events: frames[sent++] }));
      };
      ws.on('error', reject);
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString());
        if (message.type === 'hello') return pump();
        if (message.type !== 'ack') return;
        acked++;
        stored += message.results.filter((result) => result.status === 'success').length;
        if (acked === frames.length) {
          ws.close();
          resolvePromise(stored);
        } else pump();
      });
    });
  };
  // one abuser: streams 1 MiB chunks at an endpoint until the server closes on it, then again, until `until`
  const abuse = (port, path, token, until) =>
    new Promise((resolvePromise) => {
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const round = () => {
        if (Date.now() >= until) return resolvePromise();
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.on('close', round);
        socket.on('data', () => undefined);
        socket.on('connect', () => {
          socket.write(
            `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${token ? `Authorization: Bearer ${token}\r\n` : ''}Transfer-Encoding: chunked\r\n\r\n`,
          );
          const write = () => {
            while (!socket.destroyed && Date.now() < until)
              if (!socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)) return socket.once('drain', write);
            socket.destroy();
          };
          write();
        });
      };
      round();
    });

  const ingest = await start('server-ingest');
  try {
    const clients = 8;
    const perClient = 5_000;
    const began = process.hrtime.bigint();
    const stored = await Promise.all(Array.from({ length: clients }, (_, client) => sendAll(ingest, client, perClient)));
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    const total = stored.reduce((a, b) => a + b, 0);
    figure('server_ingest_events', total);
    figure('server_ingest_events_per_s', Math.round(total / seconds));
  } finally {
    ingest.child.kill('SIGTERM');
  }

  const cluster = startPostgres(join(work, 'postgres'));
  try {
    const database = await cluster.createDatabase('bench');
    execFileSync(process.execPath, [cli, 'server', 'migrate', '--database', database], { stdio: ['ignore', 'ignore', 'inherit'] });
    const instances = [await start('server-pg-a', database), await start('server-pg-b', database)];
    try {
      const clients = 8;
      const perClient = 5_000;
      const began = process.hrtime.bigint();
      const stored = await Promise.all(Array.from({ length: clients }, (_, client) => sendAll(instances[client % 2], client, perClient)));
      const seconds = Number(process.hrtime.bigint() - began) / 1e9;
      const total = stored.reduce((a, b) => a + b, 0);
      figure('server_pg_ingest_events', total);
      figure('server_pg_ingest_events_per_s', Math.round(total / seconds));
    } finally {
      for (const instance of instances) instance.child.kill('SIGTERM');
    }
  } finally {
    cluster.stop();
  }

  const target = await start('server-abuse');
  try {
    const port = Number(new URL(target.url).port);
    const until = Date.now() + 4_000;
    const paths = ['/api/v1/token/', '/api/v1/events/batch/'];
    await Promise.all(Array.from({ length: 10 }, (_, i) => abuse(port, paths[i % 2], i % 2 ? target.access : null, until)));
    const status = readFileSync(`/proc/${target.child.pid}/status`, 'utf8');
    figure('server_rss_mb_under_abuse', Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024));
    const health = await fetch(`${target.url}/api/health/`);
    figure('server_alive_after_abuse', health.ok ? 1 : 0);
  } finally {
    target.child.kill('SIGTERM');
  }
}

// `npm run bench -- derive flush` runs only those sections (and leaves bench/results.json alone)
const sections = {
  derive: benchDerive,
  'derive-real': benchDeriveReal,
  'huge-line': benchHugeLine,
  commit: benchCommitOverhead,
  rebase: benchRebaseAndLatency,
  flush: benchFlush,
  server: benchServer,
};
const chosen = process.argv.slice(2);
for (const name of chosen) if (!(name in sections)) throw new Error(`bench: unknown section ${name}; sections: ${Object.keys(sections).join(', ')}`);
mkdirSync(work, { recursive: true });
for (const [name, run] of Object.entries(sections)) if (chosen.length === 0 || chosen.includes(name)) await run();
if (chosen.length === 0) writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(figures, null, 2)}\n`);

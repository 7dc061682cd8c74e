#!/usr/bin/env node
// Benchmark, not a test: prints `name: value` figures and writes them to bench/results.json.
// Nothing here asserts on time. Generated repositories are cached in bench/.work/.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

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
      const line = JSON.stringify({ event_id: `01JBENCH${String(i).padStart(18, '0')}`, wp_id: wp, from_lane: 'planned', to_lane: 'claimed', at: new Date(time * 1000).toISOString(), actor: { display: 'bench', id: 'b', kind: 'agent' }, mission_slug: feature });
      statusLogs.set(feature, `${log}${line}\n`);
      ops += `M 100644 inline kitty-specs/${feature}/status.events.jsonl\n${data(statusLogs.get(feature))}`;
    }
    chunks.push(`commit refs/heads/main\nmark :${i + 1}\nauthor Bench <bench@example.com> ${time} +0000\ncommitter Bench <bench@example.com> ${time} +0000\n${data(`move ${key} to ${lane}`)}${i > 0 ? `from :${i}\n` : ''}${ops}`);
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

mkdirSync(work, { recursive: true });
await benchDerive();
mkdirSync(join(root, 'bench'), { recursive: true });
writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(figures, null, 2)}\n`);

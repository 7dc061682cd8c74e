#!/usr/bin/env node
// The whole product on one machine: a local `kitty server` with a demo user, a login, a throwaway
// repository with work packages and kitty's git hooks, lane moves committed in git (one amended),
// the flush, and the server's board for the project. Nothing outside a temp dir is touched
// (KITTY_HOME points into it); the server stops at the end.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const cli = resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const base = mkdtempSync(join(tmpdir(), 'kitty-demo-'));
const repo = join(base, 'acme-roadmap');
const env = {
  ...process.env,
  KITTY_HOME: join(base, 'state'),
  GIT_AUTHOR_NAME: 'Demo User',
  GIT_AUTHOR_EMAIL: 'demo@example.com',
  GIT_COMMITTER_NAME: 'Demo User',
  GIT_COMMITTER_EMAIL: 'demo@example.com',
};
delete env.CI;

const git = (...args) => execFileSync('git', args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
const kitty = (args, input) => {
  process.stdout.write(`\n$ kitty ${args.join(' ')}\n`);
  execFileSync(process.execPath, [cli, ...args], { cwd: repo, env, stdio: [input === undefined ? 'ignore' : 'pipe', 'inherit', 'inherit'], input });
};
const write = (path, text) => {
  mkdirSync(dirname(join(repo, path)), { recursive: true });
  writeFileSync(join(repo, path), text);
};
const wp = (title, lane, history) =>
  [
    '---',
    `title: ${title}`,
    `lane: ${lane}`,
    'history:',
    ...history.flatMap(([timestamp, hop, agent]) => [`  - timestamp: "${timestamp}"`, `    lane: ${hop}`, `    agent: ${agent}`]),
    '---',
    '',
    `# ${title}`,
    '',
  ].join('\n');
const commit = (message) => {
  git('add', '-A');
  git('commit', '-q', '-m', message);
  process.stdout.write(`committed: ${message}\n`);
};

const server = spawn(process.execPath, [cli, 'server', '--port', '0', '--data', join(base, 'server'), '--user', 'demo:demo-pass:acme'], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise((resolveUrl, reject) => {
  let out = '';
  server.stdout.on('data', (chunk) => {
    out += chunk;
    if (out.includes('\n')) resolveUrl(out.split('\n')[0].replace('kitty server: listening on ', ''));
  });
  server.once('exit', (code) => reject(new Error(`kitty server exited ${code}`)));
});
process.stdout.write(`kitty server: listening on ${url} (user demo, team acme)\n`);

try {
  mkdirSync(repo, { recursive: true });
  git('init', '-q', '-b', 'main');
  git('config', 'commit.gpgsign', 'false');
  process.stdout.write(`demo repository: ${repo}\n`);
  kitty(['auth', 'login', '--server', url, '--username', 'demo', '--password-stdin'], 'demo-pass');
  kitty(['init']);
  kitty(['hooks', 'install']);
  const F = 'kitty-specs/001-checkout-flow/tasks';
  write(`${F}/WP01-cart-api.md`, wp('Cart API', 'planned', [['2026-11-20T09:00:00Z', 'planned', 'alice']]));
  write(`${F}/WP02-payment.md`, wp('Payment', 'planned', [['2026-11-20T09:00:00Z', 'planned', 'alice']]));
  write(`${F}/WP03-receipts.md`, wp('Receipts', 'planned', [['2026-11-20T09:00:00Z', 'planned', 'alice']]));
  commit('Plan the checkout flow');
  write(
    `${F}/WP01-cart-api.md`,
    wp('Cart API', 'doing', [
      ['2026-11-20T09:00:00Z', 'planned', 'alice'],
      ['2026-11-21T10:00:00Z', 'doing', 'bob'],
    ]),
  );
  commit('WP01: start');
  write(
    `${F}/WP01-cart-api.md`,
    wp('Cart API', 'done', [
      ['2026-11-20T09:00:00Z', 'planned', 'alice'],
      ['2026-11-21T10:00:00Z', 'doing', 'bob'],
      ['2026-11-22T15:00:00Z', 'for_review', 'bob'],
      ['2026-11-23T11:30:00Z', 'done', 'carol'],
    ]),
  );
  write(
    `${F}/WP02-payment.md`,
    wp('Payment', 'doing', [
      ['2026-11-20T09:00:00Z', 'planned', 'alice'],
      ['2026-11-23T12:00:00Z', 'doing', 'alice'],
    ]),
  );
  commit('WP01 reviewed and done; WP02 started');
  write(
    `${F}/WP02-payment.md`,
    wp('Payment', 'for_review', [
      ['2026-11-20T09:00:00Z', 'planned', 'alice'],
      ['2026-11-23T12:00:00Z', 'doing', 'alice'],
      ['2026-11-24T16:00:00Z', 'for_review', 'alice'],
    ]),
  );
  git('add', '-A');
  git('commit', '-q', '--amend', '--no-edit');
  process.stdout.write('amended: WP02 also went to for_review\n');
  kitty(['sync', 'flush']);
  kitty(['events', 'list', '--state', 'all']);
  kitty(['sync', 'status']);

  const { access } = JSON.parse(readFileSync(join(base, 'state', 'credentials.json'), 'utf8'));
  const { project_uuid: uuid } = JSON.parse(execFileSync(process.execPath, [cli, 'identity', '--json'], { cwd: repo, env }).toString());
  const board = await (await fetch(`${url}/api/v1/projects/${uuid}/board/`, { headers: { authorization: `Bearer ${access}` } })).json();
  process.stdout.write(`\nThe server's board for project ${uuid}:\n`);
  for (const [feature, wps] of Object.entries(board.features)) {
    process.stdout.write(`  ${feature}\n`);
    for (const [id, state] of Object.entries(wps)) process.stdout.write(`    ${id}  ${state.lane.padEnd(11)} (since ${state.updated_at})\n`);
  }
  process.stdout.write(`\nThe demo lives in ${base}; remove it with: rm -rf ${base}\n`);
} finally {
  server.kill('SIGTERM');
}

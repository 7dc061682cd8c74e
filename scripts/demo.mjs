#!/usr/bin/env node
// The whole product on one machine: a throwaway repository with work packages, kitty's git hooks,
// lane moves committed in git (one of them amended), and the events the hooks queued: one per
// transition. Nothing outside a temp dir is touched (KITTY_HOME points into it).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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

const git = (...args) => execFileSync('git', args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
const kitty = (...args) => {
  process.stdout.write(`\n$ kitty ${args.join(' ')}\n`);
  execFileSync(process.execPath, [cli, ...args], { cwd: repo, env, stdio: 'inherit' });
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

mkdirSync(repo, { recursive: true });
git('init', '-q', '-b', 'main');
git('config', 'commit.gpgsign', 'false');
process.stdout.write(`demo repository: ${repo}\n`);
kitty('init');
kitty('hooks', 'install');
const F = 'kitty-specs/001-checkout-flow/tasks';
write(`${F}/WP01-cart-api.md`, wp('Cart API', 'planned', [['2026-11-20T09:00:00Z', 'planned', 'alice']]));
write(`${F}/WP02-payment.md`, wp('Payment', 'planned', [['2026-11-20T09:00:00Z', 'planned', 'alice']]));
commit('Plan the checkout flow');
write(`${F}/WP01-cart-api.md`, wp('Cart API', 'doing', [['2026-11-20T09:00:00Z', 'planned', 'alice'], ['2026-11-21T10:00:00Z', 'doing', 'bob']]));
commit('WP01: start');
write(`${F}/WP01-cart-api.md`, wp('Cart API', 'done', [
  ['2026-11-20T09:00:00Z', 'planned', 'alice'],
  ['2026-11-21T10:00:00Z', 'doing', 'bob'],
  ['2026-11-22T15:00:00Z', 'for_review', 'bob'],
  ['2026-11-23T11:30:00Z', 'done', 'carol'],
]));
write(`${F}/WP02-payment.md`, wp('Payment', 'doing', [['2026-11-20T09:00:00Z', 'planned', 'alice'], ['2026-11-23T12:00:00Z', 'doing', 'alice']]));
commit('WP01 reviewed and done; WP02 started');
write(`${F}/WP02-payment.md`, wp('Payment', 'for_review', [['2026-11-20T09:00:00Z', 'planned', 'alice'], ['2026-11-23T12:00:00Z', 'doing', 'alice'], ['2026-11-24T16:00:00Z', 'for_review', 'alice']]));
git('add', '-A');
git('commit', '-q', '--amend', '--no-edit');
process.stdout.write('amended: WP02 also went to for_review\n');
kitty('events', 'list');
kitty('derive');
kitty('hooks', 'status');
process.stdout.write(`\nThe demo lives in ${base}; remove it with: rm -rf ${base}\n`);

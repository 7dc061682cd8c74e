/**
 * Realistic, deterministic work-package git histories: the test suite's fixtures (a few hundred
 * commits) and the benchmark's input (thousands). The patterns a real project's history showed are
 * mixed at random from one seed, and the lane transitions that really happened come back as `truth`,
 * so a test compares what kitty derives with what happened, not with what kitty derived last time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Every pattern can be switched off, so a test can isolate one. */
export const PATTERN_NAMES = Object.freeze([
  'legacyFolders',
  'copies',
  'laneOnly',
  'rekey',
  'backfill',
  'logEra',
  'creationLines',
  'sameLaneLines',
  'otherLines',
  'flatten',
  'renameFeature',
  'materialize',
  'laneAlias',
  'longHistory',
  'batchMoves',
  'noise',
]);

const DEFAULTS = Object.freeze({ seed: 1, commits: 300, features: 12, wpsPerFeature: 6, bodyBytes: 600, hugeLineBytes: 0 });

const T0 = Date.UTC(2025, 5, 2, 8, 0, 0) / 1000;
/** Features born before this share of the commits predate status logs. */
const LOG_ERA_STARTS = 0.3;
/** Births spread over this share, so late commits still see every feature live. */
const BIRTHS_END = 0.6;
/** From here on status lines carry mission_slug/mission_id and structured actors. */
const MISSION_ERA_STARTS = 0.55;
const HUGE_LINE_AT = 0.85;

/** Weighted next lanes; backward moves are part of the walk, as in real reviews. */
const NEXT_FOUR = {
  planned: [
    ['doing', 85],
    ['for_review', 8],
    ['done', 7],
  ],
  doing: [
    ['for_review', 80],
    ['planned', 12],
    ['done', 8],
  ],
  for_review: [
    ['done', 65],
    ['doing', 20],
    ['planned', 15],
  ],
  done: [
    ['doing', 70],
    ['for_review', 20],
    ['planned', 10],
  ],
};
const NEXT_NINE = {
  planned: [
    ['claimed', 55],
    ['in_progress', 25],
    ['blocked', 12],
    ['canceled', 8],
  ],
  claimed: [
    ['in_progress', 80],
    ['planned', 10],
    ['blocked', 10],
  ],
  in_progress: [
    ['for_review', 75],
    ['blocked', 15],
    ['planned', 10],
  ],
  for_review: [
    ['in_review', 60],
    ['in_progress', 20],
    ['approved', 10],
    ['done', 10],
  ],
  in_review: [
    ['approved', 60],
    ['in_progress', 25],
    ['planned', 15],
  ],
  approved: [
    ['done', 90],
    ['in_review', 10],
  ],
  done: [
    ['in_progress', 60],
    ['for_review', 40],
  ],
  blocked: [
    ['in_progress', 60],
    ['planned', 30],
    ['canceled', 10],
  ],
  canceled: [['planned', 100]],
};
/** `doing` is the 4-lane name of `in_progress`: a backfilled WP in `doing` walks on from there. */
const NINE_NAME = { doing: 'in_progress' };
const TERMINAL = new Set(['done', 'canceled']);
/** Lanes a re-claim (a `from == to` line) happens in. */
const CLAIMABLE = new Set(['claimed', 'in_progress', 'doing', 'in_review']);

const ACTION_FOR = {
  planned: 'Returned for changes',
  doing: 'Started implementation',
  claimed: 'Claimed for implementation',
  in_progress: 'Started implementation',
  for_review: 'Ready for review',
  in_review: 'Review started',
  approved: 'Approved',
  done: 'Approved and merged',
  blocked: 'Blocked on a dependency',
  canceled: 'Canceled',
};
const AGENTS = ['claude', 'codex', 'gemini', 'cursor', 'opencode'];
const AUTHORS = [
  { name: 'Ada Byrne', email: 'ada@example.com', tz: '+0100' },
  { name: 'Sam Okafor', email: 'sam@example.com', tz: '-0500' },
  { name: 'Lena Vogel', email: 'lena@example.org', tz: '+0200' },
  { name: 'Priya Nair', email: 'priya@example.net', tz: '+0530' },
  { name: 'CI Bot', email: 'ci@example.com', tz: '+0000' },
];
const TOPICS = [
  'dashboard',
  'auth',
  'sync',
  'export',
  'billing',
  'search',
  'onboarding',
  'notifications',
  'reporting',
  'cli',
  'importer',
  'audit-log',
  'permissions',
  'webhooks',
  'offline-mode',
  'theming',
  'metrics',
  'scheduler',
  'cache',
];
const QUALIFIERS = ['realtime', 'unified', 'incremental', 'secure', 'multi-tenant', 'lightweight', 'resilient', 'batch', 'interactive'];
const VERBS = ['Setup', 'Implement', 'Refactor', 'Polish', 'Harden', 'Document', 'Test', 'Migrate', 'Wire up', 'Design'];
const OBJECTS = [
  'data model',
  'API endpoints',
  'CLI commands',
  'storage layer',
  'UI components',
  'error handling',
  'integration tests',
  'config loading',
  'event pipeline',
  'permissions check',
  'retry logic',
  'docs',
];
const WORDS = (
  'the service reads each record once and keeps a cursor so a restart resumes where it stopped while ' +
  'validation rejects malformed input early with a message naming the field the handler retries transient ' +
  'failures with backoff and logs the final error the cache is invalidated on write and tests cover both paths'
).split(' ');
const NOTE_ACTIONS = ['Review feedback addressed', 'Reassigned', 'Rebased on main', 'Subtask checked off', 'Notes updated'];
const CODE_FILES = ['src/app/server.ts', 'src/app/routes.ts', 'src/lib/cache.ts', 'src/lib/queue.ts', 'README.md', 'docs/architecture.md'];

/**
 * Creates `dir` afresh (removing what was there) as a git repository whose `main` has
 * `options.commits` commits, and returns what a correct reader of that history must find.
 * @param {string} dir
 * @param {HistoryOptions} [options]
 * @returns {GeneratedHistory}
 */
export function generateHistory(dir, options = {}) {
  const config = resolveOptions(options);
  const state = createState(config);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  const streamPath = join(dir, '.git', 'history.fast-import');
  const writer = createStreamWriter(streamPath);
  try {
    for (state.index = 0; state.index < config.commits; state.index++) {
      advanceClock(state);
      const commit = newCommit(state);
      if (state.index === 0) initialCommit(state, commit);
      else runOneCommit(state, commit);
      emitCommit(writer, state, commit);
    }
  } finally {
    writer.close();
  }
  importStream(dir, streamPath);
  return result(dir, state);
}

/**
 * @typedef {import('./history.d.mts').HistoryOptions} HistoryOptions
 * @typedef {import('./history.d.mts').GeneratedHistory} GeneratedHistory
 */

/** A caller inside a git hook has GIT_DIR and friends set; they would point git at the caller's repository. */
function gitEnv() {
  const env = { ...process.env };
  for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_COMMON_DIR', 'GIT_PREFIX']) delete env[name];
  return env;
}

function git(dir, args, options = {}) {
  return execFileSync('git', args, { cwd: dir, env: gitEnv(), maxBuffer: 1 << 26, ...options });
}

// ---------------------------------------------------------------- options and randomness

function resolveOptions(options) {
  const patterns = Object.fromEntries(PATTERN_NAMES.map((name) => [name, true]));
  for (const [name, value] of Object.entries(options.patterns ?? {})) {
    // a misspelt pattern would silently leave it on: a test would pass for the wrong reason
    if (!PATTERN_NAMES.includes(name)) throw new Error(`generateHistory: unknown pattern "${name}" (known: ${PATTERN_NAMES.join(', ')})`);
    patterns[name] = Boolean(value);
  }
  const config = { patterns };
  for (const [key, fallback] of Object.entries(DEFAULTS)) {
    const value = options[key] ?? fallback;
    if (!Number.isInteger(value) || value < 0) throw new Error(`generateHistory: ${key} must be a non-negative integer, got ${value}`);
    config[key] = value;
  }
  if (config.commits < 1 || config.features < 1 || config.wpsPerFeature < 1) {
    throw new Error('generateHistory: commits, features and wpsPerFeature must be at least 1');
  }
  return config;
}

/** sfc32 seeded through splitmix32: small, fast, and the same sequence on every platform. */
function createRandom(seed) {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let [a, b, c, d] = [split(), split(), split(), split()];
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  const rand = {
    next,
    float: (min, max) => min + next() * (max - min),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    /** @param {[any, number][]} entries */
    weighted(entries) {
      const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
      let roll = next() * total;
      for (const [item, weight] of entries) {
        roll -= weight;
        if (roll < 0) return item;
      }
      return entries.at(-1)?.[0];
    },
    shuffle(items) {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [copy[i], copy[j]] = [copy[j], copy[i]];
      }
      return copy;
    },
  };
  return rand;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID whose time part is `ms`, as the tools that wrote status lines made them. */
function ulidAt(ms, rand) {
  let time = '';
  for (let rest = ms, i = 0; i < 10; i++, rest = Math.floor(rest / 32)) time = CROCKFORD[rest % 32] + time;
  let random = '';
  for (let i = 0; i < 16; i++) random += CROCKFORD[rand.int(0, 31)];
  return time + random;
}

/** The 40-hex ids one migration gave re-keyed lines (a hash, not a ULID). */
function hashId(rand) {
  let id = '';
  for (let i = 0; i < 40; i++) id += '0123456789abcdef'[rand.int(0, 15)];
  return id;
}

// ---------------------------------------------------------------- times

/** The form truth uses; the product normalizes the same way. */
function normalizeAt(value) {
  return new Date(value).toISOString().replace('.000Z', 'Z');
}

/**
 * Writes an instant in one of the forms real status lines and history entries used. Forms without
 * a fraction keep milliseconds when there are some, so the written text always means `ms` exactly.
 */
function formatTime(ms, style, micro = '000') {
  const iso = new Date(ms).toISOString();
  const seconds = iso.slice(0, 19);
  const fraction = iso.slice(20, 23);
  const whole = ms % 1000 === 0;
  switch (style) {
    case 'z':
      return whole ? `${seconds}Z` : `${seconds}.${fraction}Z`;
    case 'offset':
      return whole ? `${seconds}+00:00` : `${seconds}.${fraction}${micro}+00:00`;
    case 'millisZ':
      return `${seconds}.${fraction}Z`;
    default:
      return `${seconds}.${fraction}${micro}+00:00`;
  }
}

function advanceClock(state) {
  state.prevTime = state.time;
  state.time = state.index === 0 ? T0 : state.time + state.rand.int(30, 600);
}

// ---------------------------------------------------------------- state and features

function createState(config) {
  const rand = createRandom(config.seed);
  const state = {
    config,
    rand,
    index: 0,
    time: T0,
    prevTime: T0,
    total: config.commits,
    on: (name) => config.patterns[name],
    features: [],
    plans: [],
    cleanups: [],
    truth: [],
    commits: [],
    hugeLines: [],
    seen: new Set(),
    codeFiles: new Map(),
    hugePending: config.hugeLineBytes > 0,
  };
  planFeatures(state);
  return state;
}

/**
 * Decides up front when each feature is born, how popular it is and which one-off events
 * (flatten, backfill, re-key, rename) it gets, so each enabled pattern can be made to occur.
 */
function planFeatures(state) {
  const { rand, total, config } = state;
  const ranks = rand.shuffle(Array.from({ length: config.features }, (_, i) => i + 1));
  for (let k = 0; k < config.features; k++) {
    const born = 1 + Math.floor((k * Math.max(1, total * BIRTHS_END - 1)) / config.features);
    const era = !state.on('logEra') || born < total * LOG_ERA_STARTS ? 'frontmatter' : 'log';
    const feature = {
      number: k + 1,
      born,
      era,
      live: false,
      name: '',
      names: [],
      busy: 0,
      wps: [],
      log: null,
      nextWp: 1,
      nextTask: 1,
      legacy: era === 'frontmatter' && state.on('legacyFolders') && rand.chance(0.5),
      nine: era === 'log',
      // a few hot features take most commits, so some status logs grow to hundreds of lines
      weight: 1 / ranks[k] ** 1.25,
      quote: rand.weighted([
        ['single', 50],
        ['double', 20],
        ['plain', 30],
      ]),
      tsStyle: rand.weighted([
        ['z', 80],
        ['micro', 20],
      ]),
      lineStyle: rand.weighted([
        ['py', 50],
        ['compact', 50],
      ]),
      wantsLong: state.on('longHistory') && rand.chance(0.4),
    };
    state.features.push(feature);
  }
  ensureLegacy(state);
  for (const feature of state.features) planOneOffs(state, feature);
  ensurePlanned(state);
  state.plans.sort((a, b) => a.index - b.index);
}

/** Without a legacy feature there would be no folder moves, copies or flattening to test. */
function ensureLegacy(state) {
  const older = state.features.filter((f) => f.era === 'frontmatter');
  if (state.on('legacyFolders') && older.length && !older.some((f) => f.legacy)) state.rand.pick(older).legacy = true;
}

function plan(state, feature, kind, from, to) {
  const life = state.total - 1 - feature.born;
  const share = state.rand.float(from, Math.max(from, to));
  const index = feature.born + Math.max(1, Math.round(life * share));
  state.plans.push({ index, kind, feature, share });
  return share;
}

function planOneOffs(state, feature) {
  const { rand } = state;
  let flattened = null;
  if (feature.legacy && state.on('flatten') && rand.chance(0.6)) flattened = plan(state, feature, 'flatten', 0.1, 0.45);
  let backfilled = null;
  const flat = !feature.legacy || flattened !== null;
  if (feature.era === 'frontmatter' && state.on('backfill') && flat && rand.chance(0.5)) {
    backfilled = plan(state, feature, 'backfill', Math.max(0.3, (flattened ?? 0) + 0.05), 0.8);
  }
  if (state.on('rekey') && (feature.era === 'log' || backfilled !== null) && rand.chance(0.45)) {
    plan(state, feature, 'rekey', Math.max(0.3, (backfilled ?? 0) + 0.05), 0.97);
  }
  if (state.on('renameFeature') && rand.chance(0.25)) plan(state, feature, 'renameFeature', 0.1, 0.95);
}

/** A small history could draw none of a one-off pattern; tests rely on each enabled one being there. */
function ensurePlanned(state) {
  const { rand, features } = state;
  const has = (kind, feature) => state.plans.some((p) => p.kind === kind && (!feature || p.feature === feature));
  if (state.on('flatten') && !has('flatten')) {
    const legacy = features.filter((f) => f.legacy);
    if (legacy.length) plan(state, rand.pick(legacy), 'flatten', 0.1, 0.4);
  }
  if (state.on('backfill') && !has('backfill')) {
    const ready = features.filter((f) => f.era === 'frontmatter' && (!f.legacy || has('flatten', f)));
    const fallback = state.on('flatten') ? features.filter((f) => f.era === 'frontmatter') : [];
    const feature = ready.length ? rand.pick(ready) : fallback.length ? rand.pick(fallback) : null;
    if (feature?.legacy && !has('flatten', feature)) plan(state, feature, 'flatten', 0.1, 0.3);
    if (feature) plan(state, feature, 'backfill', 0.4, 0.6);
  }
  if (state.on('rekey') && !has('rekey')) {
    const logged = features.filter((f) => f.era === 'log' || has('backfill', f));
    if (logged.length) {
      const feature = rand.pick(logged);
      const after = state.plans.find((p) => p.kind === 'backfill' && p.feature === feature)?.share ?? 0;
      plan(state, feature, 'rekey', Math.max(0.3, after + 0.05), 0.95);
    }
  }
  if (state.on('renameFeature') && !has('renameFeature')) plan(state, rand.pick(features), 'renameFeature', 0.2, 0.9);
}

function slugify(text) {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function wpPath(feature, wp) {
  const folder = wp.folder ? `${wp.folder}/` : '';
  return `kitty-specs/${feature.name}/tasks/${folder}${wp.file}`;
}

function logPath(feature) {
  return `kitty-specs/${feature.name}/status.events.jsonl`;
}

function liveFeatures(state, test = () => true) {
  return state.features.filter((feature) => feature.live && test(feature));
}

// ---------------------------------------------------------------- commits

function newCommit(state) {
  return {
    subject: '',
    kinds: new Set(),
    truth: [],
    files: new Map(),
    removed: [],
    renamed: [],
    wps: new Map(),
    logs: new Set(),
    author: state.rand.pick(AUTHORS),
    // instants handed out inside the commit rise and stay in (previous commit, this commit]
    cursor: state.time * 1000 - 25_000,
  };
}

/** The next instant inside the current commit's window: after the previous commit, not after this one. */
function tick(state, commit) {
  commit.cursor = Math.min(state.time * 1000 - 1, commit.cursor + state.rand.int(200, 2500));
  return commit.cursor;
}

function wholeSecond(ms) {
  return ms - (ms % 1000);
}

function commitAt(state) {
  return normalizeAt(state.time * 1000);
}

function touchWp(commit, feature, wp) {
  commit.wps.set(wp, feature);
}

function touchLog(commit, feature) {
  commit.logs.add(feature);
}

function recordTruth(state, commit, feature, wp, move) {
  commit.truth.push(state.truth.length);
  state.truth.push({ feature: feature.name, wp: wp.id, from: move.from, to: move.to, at: move.at, eventId: move.eventId ?? null });
  wp.moves.push(move);
}

function runOneCommit(state, commit) {
  const done = dueCleanup(state, commit) || dueBirth(state, commit) || dueHugeLine(state, commit) || duePlan(state, commit) || randomAction(state, commit);
  if (!done) codeEdit(state, commit);
}

function initialCommit(_state, commit) {
  commit.subject = 'Initial commit';
  commit.kinds.add('init');
  commit.files.set('README.md', '# Acme platform\n\nSpecs live in kitty-specs/.\n');
  commit.files.set('.gitignore', 'node_modules/\ndist/\n.worktrees/\n');
}

function dueCleanup(state, commit) {
  const at = state.cleanups.findIndex((cleanup) => cleanup.due <= state.index);
  if (at < 0) return false;
  const [{ feature, wp, path, lane }] = state.cleanups.splice(at, 1);
  commit.removed.push(path);
  wp.busy = false;
  feature.busy--;
  commit.subject = `chore(${feature.name}): remove stale ${wp.id} copy from tasks/${lane}`;
  commit.kinds.add('cleanup');
  return true;
}

function dueBirth(state, commit) {
  const feature = state.features.find((f) => !f.live && f.born <= state.index);
  if (!feature) return false;
  createFeature(state, commit, feature);
  return true;
}

const PLAN_READY = {
  flatten: (f) => f.legacy && !f.busy,
  backfill: (f) => f.era === 'frontmatter' && !f.legacy && !f.busy,
  rekey: (f) => f.log?.some((line) => line.record.to_lane),
  renameFeature: (f) => !f.busy,
};
const PLAN_RUN = { flatten, backfill, rekey, renameFeature };

function duePlan(state, commit) {
  const at = state.plans.findIndex((p) => p.index <= state.index && p.feature.live && PLAN_READY[p.kind](p.feature));
  if (at < 0) return false;
  const [{ kind, feature }] = state.plans.splice(at, 1);
  PLAN_RUN[kind](state, commit, feature);
  commit.kinds.add(kind);
  return true;
}

/**
 * The everyday commits, weighted. A pattern not seen by mid-history is boosted so a short history
 * still contains each enabled one when the features allow it.
 */
function randomAction(state, commit) {
  const candidates = [
    ['move', 70, moveAction],
    ['wp', 3, addWpAction],
    ['noise', state.on('noise') ? 8 : 0, noiseAction],
    ['otherLines', state.on('otherLines') ? 4 : 0, otherLineAction],
    ['sameLaneLines', state.on('sameLaneLines') ? 2 : 0, sameLaneAction],
    ['materialize', state.on('materialize') ? 2 : 0, materializeAction],
    ['laneAlias', state.on('laneAlias') ? 1.5 : 0, laneAliasAction],
  ];
  const late = state.index > state.total * 0.5;
  const weighted = candidates.filter(([, weight]) => weight > 0).map(([kind, weight, run]) => [run, late && !state.seen.has(kind) ? weight * 15 : weight]);
  for (let attempt = 0; attempt < 4; attempt++) {
    if (state.rand.weighted(weighted)(state, commit)) return true;
  }
  return false;
}

// ---------------------------------------------------------------- work packages

function newWp(state, feature) {
  const { rand, config } = state;
  const number = feature.nextWp++;
  const title = rand.chance(0.1) ? 'Polish & Performance' : `${rand.pick(VERBS)} ${rand.pick(OBJECTS)}`;
  const id = `WP${String(number).padStart(2, '0')}`;
  const subtasks = Array.from({ length: rand.int(2, 4) }, () => `T${String(feature.nextTask++).padStart(3, '0')}`);
  const wp = {
    id,
    title,
    file: `${id}-${slugify(title)}.md`,
    lane: 'planned',
    fmLane: 'planned',
    folder: feature.legacy ? 'planned' : null,
    quote: rand.chance(0.8) ? feature.quote : rand.pick(['single', 'double', 'plain']),
    tsStyle: feature.tsStyle,
    laneComment: false,
    subtasks,
    phase: `Phase ${rand.int(1, 3)} - ${rand.pick(['Foundation', 'Core', 'Polish'])}`,
    assignee: '',
    agent: rand.pick(AGENTS),
    shellPid: String(rand.int(1000, 99999)),
    history: [],
    body: '',
    busy: false,
    moves: [],
    logLines: [],
    mirrored: 0,
    long: false,
  };
  wp.body = makeBody(rand, wp, config.bodyBytes);
  return wp;
}

function makeBody(rand, wp, bytes) {
  const head = [`# Work Package Prompt: ${wp.id} – ${wp.title}`, '', '## Objectives & Success Criteria', ''];
  const tasks = ['', '## Subtasks & Detailed Guidance', '', ...wp.subtasks.map((t) => `- [ ] ${t} ${rand.pick(OBJECTS)}`), '', '## Activity Log', ''];
  let size = [...head, ...tasks].join('\n').length;
  const prose = [];
  while (size < bytes) {
    const sentence = Array.from({ length: rand.int(8, 18) }, () => rand.pick(WORDS)).join(' ');
    const line = `${sentence[0].toUpperCase()}${sentence.slice(1)}.`;
    prose.push(line);
    size += line.length + 1;
  }
  return [...head, ...prose, ...tasks].join('\n');
}

function quote(value, style) {
  if (style === 'double') return JSON.stringify(value);
  if (style === 'plain' && /^[A-Za-z0-9][\w.:+-]*$/.test(value)) return value;
  return `'${value.replaceAll("'", "''")}'`;
}

function renderHistory(wp) {
  if (!wp.history.length) return ['history: []'];
  const q = (value) => quote(value, wp.quote);
  return [
    'history:',
    ...wp.history.flatMap((entry) => [
      `  - timestamp: ${q(entry.timestamp)}`,
      `    lane: ${q(entry.lane)}`,
      `    agent: ${q(entry.agent)}`,
      `    shell_pid: ${q(entry.shellPid)}`,
      `    action: ${quote(entry.action, 'single')}`,
    ]),
  ];
}

function renderWp(wp) {
  const q = (value) => quote(value, wp.quote);
  return [
    '---',
    `work_package_id: ${q(wp.id)}`,
    `title: ${quote(wp.title, 'single')}`,
    `lane: ${q(wp.fmLane)}${wp.laneComment ? '  # set by /spec-kitty' : ''}`,
    'subtasks:',
    ...wp.subtasks.map((task) => `  - ${q(task)}`),
    `phase: ${quote(wp.phase, 'single')}`,
    `assignee: ${q(wp.assignee)}`,
    `agent: ${q(wp.agent)}`,
    `shell_pid: ${q(wp.shellPid)}`,
    ...renderHistory(wp),
    '---',
    '',
    wp.body,
  ].join('\n');
}

function historyEntry(state, wp, ms, lane, action, agent = wp.agent) {
  const style = wp.tsStyle;
  const timestamp = formatTime(style === 'z' ? wholeSecond(ms) : ms, style, String(state.rand.int(0, 999)).padStart(3, '0'));
  return { timestamp, lane, agent, action, shellPid: wp.shellPid };
}

function createWp(state, commit, feature) {
  const wp = newWp(state, feature);
  // one WP in some features never settles: its history list grows to dozens of entries
  if (feature.wantsLong && !feature.wps.some((other) => other.long)) wp.long = true;
  feature.wps.push(wp);
  const ms = tick(state, commit);
  if (feature.log && state.on('creationLines')) createWithLine(state, commit, feature, wp, ms);
  else createWithEntry(state, commit, feature, wp, ms);
  touchWp(commit, feature, wp);
  return wp;
}

/** Frontmatter-era creation: the file with one `planned` entry; truth is that entry's time. */
function createWithEntry(state, commit, feature, wp, ms) {
  const entry = historyEntry(state, wp, ms, 'planned', 'Prompt generated via /spec-kitty.tasks', 'system');
  wp.history.push(entry);
  recordTruth(state, commit, feature, wp, { from: null, to: 'planned', at: normalizeAt(entry.timestamp), agent: 'system' });
}

/** Log-era creation: the file plus its first status line (`genesis → planned` or `planned → planned`). */
function createWithLine(state, commit, feature, wp, ms) {
  const record = statusRecord(state, feature, {
    wpId: wp.id,
    from: state.rand.chance(0.6) ? 'genesis' : 'planned',
    to: 'planned',
    ms,
    agent: wp.agent,
  });
  appendLine(state, commit, feature, record);
  wp.logLines.push(record);
  if (state.on('otherLines') && state.rand.chance(0.3)) {
    appendLine(state, commit, feature, {
      event_type: 'WPCreated',
      event_id: ulidAt(ms, state.rand),
      payload: { wp_id: wp.id, title: wp.title },
      at: record.at,
    });
  }
  if (state.rand.chance(0.5)) {
    wp.history.push(historyEntry(state, wp, ms, 'planned', 'Prompt generated via /spec-kitty.tasks', 'system'));
    wp.mirrored = 1;
  }
  commit.kinds.add('creationLines');
  recordTruth(state, commit, feature, wp, { from: null, to: 'planned', at: normalizeAt(record.at), eventId: record.event_id, agent: wp.agent });
}

function createFeature(state, commit, feature) {
  const { rand } = state;
  const topic = rand.pick(TOPICS);
  feature.live = true;
  feature.name = `${String(feature.number).padStart(3, '0')}-${rand.chance(0.5) ? `${rand.pick(QUALIFIERS)}-` : ''}${topic}`;
  feature.names.push(feature.name);
  feature.missionId = ulidAt(state.time * 1000, rand);
  const base = `kitty-specs/${feature.name}`;
  commit.files.set(`${base}/spec.md`, `# Feature Specification: ${topic}\n\nUsers need ${topic} to work offline and fast.\n`);
  commit.files.set(
    `${base}/meta.json`,
    `${JSON.stringify({ feature_number: String(feature.number).padStart(3, '0'), slug: feature.name, created_at: commitAt(state) }, null, 2)}\n`,
  );
  if (feature.era === 'log') {
    feature.log = [];
    touchLog(commit, feature);
    if (state.on('otherLines')) {
      appendLine(state, commit, feature, {
        event_type: 'MissionCreated',
        event_id: ulidAt(state.time * 1000 - 30_000, rand),
        payload: { mission_slug: feature.name, mission_id: feature.missionId },
        at: formatTime(state.time * 1000 - 30_000, 'micro'),
      });
    }
  }
  const wps = [];
  for (let i = 0; i < state.config.wpsPerFeature; i++) wps.push(createWp(state, commit, feature));
  commit.files.set(`${base}/tasks.md`, `# Tasks: ${feature.name}\n\n${wps.map((wp) => `- ${wp.id}: ${wp.title}`).join('\n')}\n`);
  commit.subject = `feat(${feature.name}): spec, plan and ${wps.length} work packages`;
  commit.kinds.add('feature');
  if (feature.legacy) commit.kinds.add('legacyFolders');
  if (feature.log) commit.kinds.add('logEra');
}

function addWpAction(state, commit) {
  const feature = pickFeature(state, liveFeatures(state));
  if (!feature) return false;
  const wp = createWp(state, commit, feature);
  commit.subject = `feat(${feature.name}): add ${wp.id} ${wp.title}`;
  commit.kinds.add('wp');
  return true;
}

function pickFeature(state, features) {
  if (!features.length) return null;
  return state.rand.weighted(features.map((feature) => [feature, feature.weight]));
}

// ---------------------------------------------------------------- moves

function nextLane(state, feature, lane) {
  const table = feature.nine ? NEXT_NINE : NEXT_FOUR;
  const options = table[feature.nine ? (NINE_NAME[lane] ?? lane) : lane] ?? [['planned', 1]];
  return state.rand.weighted(options);
}

function moveWeight(wp) {
  if (wp.busy) return 0;
  if (wp.long) return 3;
  return TERMINAL.has(wp.lane) ? 0.05 : 1;
}

function moveAction(state, commit) {
  const feature = pickFeature(
    state,
    liveFeatures(state, (f) => f.wps.some((wp) => moveWeight(wp) > 0)),
  );
  if (!feature) return false;
  const open = feature.wps.filter((wp) => !wp.busy && !TERMINAL.has(wp.lane));
  // a feature whose WPs are all done grows a new one more often than it reopens one
  if (open.length === 0 && state.rand.chance(0.6)) return addWpAction(state, commit);
  const count = state.on('batchMoves') && state.rand.chance(0.07) ? state.rand.int(2, 3) : 1;
  const wps = pickWps(state, feature, count);
  for (const wp of wps) moveWp(state, commit, feature, wp, wps.length === 1);
  if (wps.length > 1) commit.kinds.add('batchMoves');
  commit.kinds.add('move');
  const what = wps.map((wp) => `${wp.id} to ${wp.lane}`).join(', ');
  commit.subject = feature.log ? `status(${feature.name}): ${what}` : `chore: Move ${what} on spec ${feature.name} [${wps[0].agent}]`;
  return true;
}

function pickWps(state, feature, count) {
  const chosen = [];
  for (let i = 0; i < count; i++) {
    const left = feature.wps.filter((wp) => !chosen.includes(wp) && moveWeight(wp) > 0);
    if (!left.length) break;
    chosen.push(state.rand.weighted(left.map((wp) => [wp, moveWeight(wp)])));
  }
  return chosen;
}

function moveWp(state, commit, feature, wp, alone) {
  const to = nextLane(state, feature, wp.lane);
  if (feature.log) moveInLog(state, commit, feature, wp, to);
  else moveInFrontmatter(state, commit, feature, wp, to, alone);
}

/** Frontmatter era: the lane and a history entry change together, or (~20%) the lane alone. */
function moveInFrontmatter(state, commit, feature, wp, to, alone) {
  const { rand } = state;
  const from = wp.lane;
  const oldPath = wpPath(feature, wp);
  let at;
  if (state.on('laneOnly') && !wp.long && rand.chance(0.2)) {
    at = commitAt(state);
    commit.kinds.add('laneOnly');
  } else {
    if (wp.long) addNotes(state, commit, wp, from);
    const entry = historyEntry(state, wp, tick(state, commit), to, ACTION_FOR[to]);
    wp.history.push(entry);
    wp.body += `\n- ${entry.timestamp} – ${entry.agent} – lane=${to} – ${entry.action}`;
    at = normalizeAt(entry.timestamp);
  }
  wp.lane = to;
  wp.fmLane = to;
  wp.laneComment = rand.chance(0.1);
  if (feature.legacy) moveLegacyFile(state, commit, feature, wp, oldPath, from, alone);
  touchWp(commit, feature, wp);
  recordTruth(state, commit, feature, wp, { from, to, at, agent: wp.agent });
}

/** Same-lane entries (notes, reassignments) make the long history lists real WPs grew. */
function addNotes(state, commit, wp, lane) {
  const count = state.rand.int(1, 3);
  for (let i = 0; i < count; i++) wp.history.push(historyEntry(state, wp, tick(state, commit), lane, state.rand.pick(NOTE_ACTIONS)));
  commit.kinds.add('longHistory');
}

/**
 * Legacy layout: the folder is the lane, so the file moves. Sometimes it was copied and the old
 * copy deleted in a later commit; that WP stays still until then so the two copies never disagree
 * about anything but the lane.
 */
function moveLegacyFile(state, commit, feature, wp, oldPath, from, alone) {
  wp.folder = wp.lane;
  commit.kinds.add('legacyFolders');
  if (alone && state.on('copies') && state.rand.chance(state.seen.has('copies') ? 0.25 : 0.5)) {
    wp.busy = true;
    feature.busy++;
    state.cleanups.push({ due: state.index + state.rand.int(1, 6), feature, wp, path: oldPath, lane: from });
    commit.kinds.add('copies');
    return;
  }
  commit.removed.push(oldPath);
}

/** Log era: one appended line is the move; the frontmatter lane is left as it was. */
function moveInLog(state, commit, feature, wp, to) {
  const from = wp.lane;
  const record = statusRecord(state, feature, { wpId: wp.id, from, to, ms: tick(state, commit), agent: wp.agent });
  appendLine(state, commit, feature, record);
  wp.logLines.push(record);
  wp.lane = to;
  touchFileWithLogMove(state, commit, feature, wp, to);
  commit.kinds.add('logEra');
  recordTruth(state, commit, feature, wp, { from, to, at: normalizeAt(record.at), eventId: record.event_id, agent: wp.agent });
}

/**
 * Tools of the log era still edited the WP file in the same commit now and then: mirroring the
 * line into history (long WPs), writing the lane under its 4-lane name, or only the agent fields.
 */
function touchFileWithLogMove(state, commit, feature, wp, to) {
  const { rand } = state;
  if (wp.long && state.on('longHistory') && rand.chance(0.5)) {
    mirrorLines(wp);
    wp.fmLane = to;
    commit.kinds.add('longHistory');
  } else if (state.on('materialize') && rand.chance(0.12)) {
    wp.fmLane = to === 'in_progress' ? 'doing' : to;
    commit.kinds.add('materialize');
  } else if (rand.chance(0.25)) {
    wp.agent = rand.pick(AGENTS);
    wp.shellPid = String(rand.int(1000, 99999));
  } else {
    return;
  }
  touchWp(commit, feature, wp);
}

/** History entries for the status lines not yet in the file, as a sync from the log wrote them. */
function mirrorLines(wp) {
  for (const record of wp.logLines.slice(wp.mirrored)) {
    const agent = typeof record.actor === 'string' ? record.actor : record.actor.display;
    wp.history.push({ timestamp: record.at, lane: record.to_lane, agent, action: 'Synced from status log', shellPid: wp.shellPid });
  }
  wp.mirrored = wp.logLines.length;
}

// ---------------------------------------------------------------- status logs

/**
 * A transition line in the shape of its time: older lines `feature_slug` with a plain actor (some
 * tools wrote Python-style JSON with sorted keys), newer ones `mission_slug` + `mission_id` with an
 * actor object. `at` takes the forms real lines had.
 */
function statusRecord(state, feature, { wpId, from, to, ms, agent, at, eventId }) {
  const { rand } = state;
  const mission = state.index >= state.total * MISSION_ERA_STARTS;
  const style = rand.weighted(
    mission
      ? [
          ['micro', 60],
          ['millisZ', 30],
          ['z', 10],
        ]
      : [
          ['z', 40],
          ['offset', 20],
          ['micro', 40],
        ],
  );
  const text = at ?? formatTime(style === 'z' || style === 'offset' ? wholeSecond(ms) : ms, style, String(rand.int(0, 999)).padStart(3, '0'));
  const id = eventId ?? ulidAt(ms, rand);
  if (mission) {
    return {
      event_id: id,
      mission_slug: feature.name,
      mission_id: feature.missionId,
      wp_id: wpId,
      from_lane: from,
      to_lane: to,
      at: text,
      actor: { display: agent, id: `a${AGENTS.indexOf(agent) + 1}`, kind: 'agent' },
      force: false,
      execution_mode: 'worktree',
      reason: null,
    };
  }
  if (feature.lineStyle === 'py') {
    return {
      actor: agent,
      at: text,
      event_id: id,
      evidence: null,
      execution_mode: 'worktree',
      feature_slug: feature.name,
      force: false,
      from_lane: from,
      reason: null,
      review_ref: null,
      to_lane: to,
      wp_id: wpId,
    };
  }
  return { event_id: id, wp_id: wpId, from_lane: from, to_lane: to, at: text, actor: agent, feature_slug: feature.name };
}

/** Python's json.dumps separators, which some writers of these logs used. */
function pythonJson(value) {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}: ${pythonJson(item)}`)
      .join(', ')}}`;
  return JSON.stringify(value);
}

function lineText(line) {
  line.text ??= line.style === 'py' ? pythonJson(line.record) : JSON.stringify(line.record);
  return line.text;
}

function appendLine(state, commit, feature, record) {
  const mission = state.index >= state.total * MISSION_ERA_STARTS;
  feature.log.push({ record, style: mission ? 'compact' : feature.lineStyle, text: null });
  touchLog(commit, feature);
}

function logText(feature) {
  return feature.log.length ? `${feature.log.map(lineText).join('\n')}\n` : '';
}

function logFeatures(state, test = () => true) {
  return liveFeatures(state, (f) => f.log !== null && test(f));
}

function otherLineAction(state, commit) {
  const feature = pickFeature(state, logFeatures(state));
  if (!feature) return false;
  const { rand } = state;
  const wp = rand.pick(feature.wps);
  const ms = tick(state, commit);
  const at = formatTime(ms, 'micro');
  const record = rand.chance(0.7)
    ? {
        kind: 'annotation',
        wp_id: wp.id,
        delta: rand.pick([{ assignee: wp.agent }, { notes: 'Waiting on API review' }, { subtasks_done: [wp.subtasks[0]] }]),
        at,
      }
    : { event_type: rand.pick(['ReviewRequested', 'DependencyResolved', 'WorktreeCreated']), event_id: ulidAt(ms, rand), payload: { wp_id: wp.id }, at };
  appendLine(state, commit, feature, record);
  commit.subject = `chore(${feature.name}): record ${record.kind ?? record.event_type} for ${wp.id}`;
  commit.kinds.add('otherLines');
  return true;
}

/** A re-claim: a `from == to` line, which is no move. */
function sameLaneAction(state, commit) {
  const feature = pickFeature(
    state,
    logFeatures(state, (f) => f.wps.some((wp) => CLAIMABLE.has(wp.lane))),
  );
  if (!feature) return false;
  const wp = state.rand.pick(feature.wps.filter((w) => CLAIMABLE.has(w.lane)));
  const agent = state.rand.pick(AGENTS);
  const record = statusRecord(state, feature, { wpId: wp.id, from: wp.lane, to: wp.lane, ms: tick(state, commit), agent });
  appendLine(state, commit, feature, record);
  wp.logLines.push(record);
  commit.subject = `status(${feature.name}): ${agent} re-claims ${wp.id} (${wp.lane})`;
  commit.kinds.add('sameLaneLines');
  return true;
}

function dueHugeLine(state, commit) {
  if (!state.hugePending || state.index < state.total * HUGE_LINE_AT) return false;
  const candidates = logFeatures(state);
  if (!candidates.length) return false;
  // the coldest log, so few later commits have to carry the huge blob again
  const feature = candidates.reduce((coldest, f) => (f.weight < coldest.weight ? f : coldest));
  const record = { kind: 'annotation', wp_id: feature.wps[0].id, delta: { notes: '' }, at: formatTime(tick(state, commit), 'micro') };
  const bytes = state.config.hugeLineBytes;
  const room = Math.max(0, bytes - JSON.stringify(record).length);
  record.delta.notes = WORDS.join(' ')
    .repeat(Math.ceil(room / WORDS.join(' ').length))
    .slice(0, room);
  feature.log.push({ record, style: 'compact', text: null });
  touchLog(commit, feature);
  const written = Buffer.byteLength(lineText(feature.log.at(-1)));
  state.hugeLines.push({ path: logPath(feature), commit: state.index, bytes: written });
  // the feature winds down: each later append carries the huge line again, so keep them few
  feature.weight /= 5;
  state.hugePending = false;
  commit.subject = `chore(${feature.name}): attach review transcript to ${feature.wps[0].id}`;
  commit.kinds.add('hugeLine');
  return true;
}

// ---------------------------------------------------------------- one-off events

/** A migration re-keyed every transition line; the moves themselves are unchanged. */
function rekey(state, commit, feature) {
  const { rand } = state;
  for (const line of feature.log) {
    if (!line.record.to_lane) continue;
    line.record.event_id = rand.chance(0.5) ? hashId(rand) : ulidAt(state.time * 1000, rand);
    line.text = null;
  }
  touchLog(commit, feature);
  commit.subject = `chore(${feature.name}): migrate status events to new event ids`;
}

/**
 * A frontmatter-era feature gets a log written from its WPs' past moves (each line at the move's
 * own time, so it names a move already made), sometimes compressing a run of moves into one line.
 */
function backfill(state, commit, feature) {
  const { rand } = state;
  const withCreation = rand.chance(0.5);
  const style = rand.pick(['offset', 'z', 'micro']);
  const perWp = feature.wps.map((wp) => backfillRuns(state, wp, withCreation).map((run) => ({ wp, run })));
  const ordered = rand.chance(0.5) ? perWp.flat() : perWp.flat().sort((a, b) => Date.parse(a.run.at) - Date.parse(b.run.at));
  feature.log = [];
  if (state.on('otherLines') && rand.chance(0.5)) {
    appendLine(state, commit, feature, {
      event_type: 'MissionCreated',
      payload: { mission_slug: feature.name, mission_id: feature.missionId },
      at: formatTime(state.time * 1000 - 30_000, 'micro'),
    });
  }
  for (const { wp, run } of ordered) {
    const record = statusRecord(state, feature, {
      wpId: wp.id,
      from: run.from ?? 'genesis',
      to: run.to,
      ms: state.time * 1000,
      agent: run.agent ?? wp.agent,
      at: formatTime(Date.parse(run.at), style),
      eventId: ulidAt(state.time * 1000 - rand.int(0, 999), rand),
    });
    appendLine(state, commit, feature, record);
    wp.logLines.push(record);
  }
  for (const wp of feature.wps) wp.mirrored = wp.logLines.length;
  feature.era = 'log';
  feature.nine = true;
  touchLog(commit, feature);
  commit.subject = `chore(${feature.name}): backfill status.events.jsonl from frontmatter history`;
}

function backfillRuns(state, wp, withCreation) {
  const compress = state.rand.chance(0.35);
  const runs = [];
  for (const move of wp.moves) {
    if (move.from === null && !withCreation) continue;
    const last = runs.at(-1);
    if (compress && last && last.from !== null && last.from !== move.to && state.rand.chance(0.6)) {
      runs[runs.length - 1] = { from: last.from, to: move.to, at: move.at, agent: move.agent };
    } else {
      runs.push({ from: move.from, to: move.to, at: move.at, agent: move.agent });
    }
  }
  return runs;
}

/** Legacy lane folders flattened: every WP of the feature moves to tasks/ in one commit. */
function flatten(_state, commit, feature) {
  for (const wp of feature.wps) {
    const from = wpPath(feature, wp);
    wp.folder = null;
    commit.renamed.push([from, wpPath(feature, wp)]);
  }
  feature.legacy = false;
  commit.subject = `refactor(${feature.name}): flatten tasks/ lane folders`;
}

/** The feature folder renamed (status log and all); later moves happen under the new name. */
function renameFeature(state, commit, feature) {
  const { rand } = state;
  const from = `kitty-specs/${feature.name}`;
  feature.name = `${rand.pick(QUALIFIERS)}-${rand.pick(TOPICS)}-${ulidAt(state.time * 1000, rand).slice(0, 8)}`;
  feature.names.push(feature.name);
  commit.renamed.push([from, `kitty-specs/${feature.name}`]);
  commit.subject = `refactor: rename mission ${feature.names.at(-2)} to ${feature.name}`;
}

// ---------------------------------------------------------------- frontmatter that mirrors the log

/** WP files rewritten to the log's lanes (sometimes with history entries for the lines): no move. */
function materializeAction(state, commit) {
  const stale = (wp) => !wp.busy && wp.fmLane !== wp.lane;
  const feature = pickFeature(
    state,
    logFeatures(state, (f) => f.wps.some(stale)),
  );
  if (!feature) return false;
  const withHistory = state.rand.chance(0.4);
  for (const wp of feature.wps.filter(stale)) {
    wp.fmLane = wp.lane;
    if (withHistory) mirrorLines(wp);
    touchWp(commit, feature, wp);
  }
  commit.subject = `chore(${feature.name}): materialize WP frontmatter from status log`;
  commit.kinds.add('materialize');
  return true;
}

/** `lane: doing` renamed to its 9-lane name: the same lane, so no move. */
function laneAliasAction(state, commit) {
  const feature = pickFeature(
    state,
    logFeatures(state, (f) => f.wps.some((wp) => !wp.busy && wp.fmLane === 'doing')),
  );
  if (!feature) return false;
  for (const wp of feature.wps.filter((w) => !w.busy && w.fmLane === 'doing')) {
    wp.fmLane = 'in_progress';
    touchWp(commit, feature, wp);
  }
  commit.subject = `chore(${feature.name}): rename lane doing to in_progress`;
  commit.kinds.add('laneAlias');
  return true;
}

// ---------------------------------------------------------------- noise

/** Commits that touch no lane: code, or a WP body (a subtask ticked). */
function noiseAction(state, commit) {
  const features = liveFeatures(state, (f) => f.wps.some((wp) => !wp.busy));
  if (!features.length || state.rand.chance(0.6)) return codeEdit(state, commit);
  const feature = pickFeature(state, features);
  const wp = state.rand.pick(feature.wps.filter((w) => !w.busy));
  wp.body = wp.body.includes('- [ ] ') ? wp.body.replace('- [ ] ', '- [x] ') : `${wp.body}\n\nNote: follow-up ${state.index}.`;
  touchWp(commit, feature, wp);
  commit.subject = `docs(${feature.name}): update ${wp.id} notes`;
  commit.kinds.add('noise');
  return true;
}

function codeEdit(state, commit) {
  const path = state.rand.pick(CODE_FILES);
  const revisions = [...(state.codeFiles.get(path) ?? []), `// revision ${state.index}: ${state.rand.pick(WORDS)} ${state.rand.pick(WORDS)}`].slice(-30);
  state.codeFiles.set(path, revisions);
  commit.files.set(path, `${revisions.join('\n')}\n`);
  commit.subject = `${state.rand.pick(['fix', 'feat', 'refactor'])}: ${state.rand.pick(WORDS)} ${state.rand.pick(WORDS)} in ${path.split('/').at(-1)}`;
  commit.kinds.add('noise');
  return true;
}

// ---------------------------------------------------------------- fast-import

/** The stream goes to a file in chunks: a huge line times a few versions would not fit one string. */
function createStreamWriter(path) {
  const fd = openSync(path, 'w');
  let pending = [];
  let size = 0;
  const flush = () => {
    if (pending.length) writeSync(fd, pending.join(''));
    pending = [];
    size = 0;
  };
  const text = (chunk) => {
    pending.push(chunk);
    size += chunk.length;
    if (size > 1 << 22) flush();
  };
  return {
    text,
    data(content) {
      text(`data ${Buffer.byteLength(content)}\n`);
      text(content);
      text('\n');
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}

function emitCommit(writer, state, commit) {
  const { name, email, tz } = commit.author;
  const mark = state.index + 1;
  writer.text(`commit refs/heads/main\nmark :${mark}\nauthor ${name} <${email}> ${state.time} ${tz}\ncommitter ${name} <${email}> ${state.time} ${tz}\n`);
  writer.data(commit.subject);
  if (mark > 1) writer.text(`from :${mark - 1}\n`);
  for (const [from, to] of commit.renamed) writer.text(`R ${from} ${to}\n`);
  for (const path of commit.removed) writer.text(`D ${path}\n`);
  const write = (path, content) => {
    writer.text(`M 100644 inline ${path}\n`);
    writer.data(content);
  };
  for (const [path, content] of commit.files) write(path, content);
  for (const [wp, feature] of commit.wps) write(wpPath(feature, wp), renderWp(wp));
  for (const feature of commit.logs) write(logPath(feature), logText(feature));
  writer.text('\n');
  for (const kind of commit.kinds) state.seen.add(kind);
  state.commits.push({ sha: '', at: commitAt(state), subject: commit.subject, kinds: [...commit.kinds], truth: commit.truth });
}

function importStream(dir, streamPath) {
  const input = openSync(streamPath, 'r');
  try {
    // a huge status log is stored whole rather than deltified: delta search over it costs seconds
    const run = spawnSync('git', ['fast-import', '--quiet', '--big-file-threshold=8m'], { cwd: dir, env: gitEnv(), stdio: [input, 'ignore', 'pipe'] });
    if (run.status !== 0) throw new Error(`git fast-import failed in ${dir}: ${run.stderr}`);
  } finally {
    closeSync(input);
    unlinkSync(streamPath);
  }
  git(dir, ['reset', '-q', '--hard', 'main']);
}

function result(dir, state) {
  const shas = git(dir, ['rev-list', '--reverse', 'main']).toString().trim().split('\n');
  state.commits.forEach((commit, i) => {
    commit.sha = shas[i];
  });
  const features = liveFeatures(state).map((f) => ({
    name: f.name,
    names: f.names,
    era: f.log ? 'log' : 'frontmatter',
    legacy: f.legacy,
    lanes: f.nine ? 9 : 4,
    wps: f.wps.map((wp) => wp.id),
    logLines: f.log?.length ?? 0,
  }));
  return { commits: state.commits, truth: state.truth, hugeLines: state.hugeLines, features };
}

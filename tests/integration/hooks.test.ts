import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/state/lock.js';
import { gitdir, processesIn, tempDir, wp } from '../helpers/gitdir.js';
import { F, hookedRepo, moves, queued, waitFor } from '../helpers/hooks.js';

const WP1 = `${F}/WP01-api.md`;
const WP2 = `${F}/WP02-ui.md`;

describe('git hooks capture each transition exactly once', () => {
  it('captures a commit, and a later move, once each', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    expect(moves(queued(repo))).toEqual(['WP01 ->planned']);
    const sha = repo.commit('start', { files: { [WP1]: wp({ lane: 'doing' }) } });
    const events = queued(repo);
    expect(moves(events)).toEqual(['WP01 ->planned', 'WP01 planned>doing']);
    expect(events[1]!.git).toMatchObject({ commit: sha, branch: 'main' });
  });

  it('a foreground hook prints a derivation warning once, with one "kitty:" prefix', async () => {
    const repo = await hookedRepo();
    repo.write(WP1, wp({ lane: 'parked' }));
    repo.git('add', '-A');
    const commit = spawnSync('git', ['commit', '-q', '-m', 'park'], { cwd: repo.dir, env: repo.env, encoding: 'utf8' });
    expect(commit.status).toBe(0);
    expect(commit.stderr.split('\n').filter((line) => line.includes('unknown lane'))).toEqual([
      `kitty: warning: unknown lane "parked" in ${WP1} (passed through)`,
    ]);
    expect(moves(queued(repo))).toEqual(['WP01 ->parked']);
  });

  it('a hook that has to backfill the identity says so in one line and keeps the project uuid', async () => {
    const repo = await hookedRepo();
    const uuid = JSON.parse((await repo.run(['identity', '--json'])).stdout).project_uuid as string;
    repo.git('rm', '-q', '.kittify/config.yaml');
    repo.write(WP1, wp({ lane: 'planned' }));
    repo.git('add', '-A');
    const commit = spawnSync('git', ['commit', '-q', '-m', 'plan, config gone'], { cwd: repo.dir, env: repo.env, encoding: 'utf8' });
    expect(commit.status).toBe(0);
    expect(commit.stderr.split('\n').filter((line) => line.includes('.kittify/config.yaml'))).toEqual([
      'kitty: writing the project identity to .kittify/config.yaml; commit it so every clone shares it',
    ]);
    expect(repo.git('status', '--porcelain')).toBe('?? .kittify/');
    expect(JSON.parse((await repo.run(['identity', '--json'])).stdout)).toMatchObject({ project_uuid: uuid, source: 'file' });
    expect(queued(repo).map((event) => event.project_uuid)).toEqual([uuid]);
  });

  it('captures the first commits of a repository the hooks were installed in before it', async () => {
    const repo = gitdir();
    expect((await repo.run(['hooks', 'install'])).code).toBe(0);
    // quick commits in the background: one worker takes several requests in one round
    repo.commit('root', { files: { [WP1]: wp({ lane: 'planned' }) } });
    repo.commit('start', { files: { [WP1]: wp({ lane: 'doing' }) } });
    repo.commit('review', { files: { [WP1]: wp({ lane: 'for_review' }) } });
    const events = await waitFor(
      () => queued(repo),
      (list) => list.length >= 3,
    );
    await waitFor(
      () => readdirSync(join(repo.dir, '.git/kitty/requests')),
      (list) => list.length === 0,
    );
    expect(moves(queued(repo))).toEqual(['WP01 ->planned', 'WP01 planned>doing', 'WP01 doing>for_review']);
    expect(events.length).toBeGreaterThanOrEqual(3);
  });

  it('amend: a reworded commit adds nothing; an extra lane change adds only the new hop', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    repo.commit('start', { files: { [WP1]: wp({ lane: 'doing' }) } });
    repo.git('commit', '-q', '--amend', '-m', 'start WP01 (reworded)');
    expect(moves(queued(repo))).toEqual(['WP01 ->planned', 'WP01 planned>doing']);
    repo.write(WP1, wp({ lane: 'for_review' }));
    repo.git('commit', '-q', '-a', '--amend', '--no-edit');
    expect(moves(queued(repo))).toEqual(['WP01 ->planned', 'WP01 planned>doing', 'WP01 doing>for_review']);
  });

  it('rebase of 3 commits that move lanes: every transition present, none twice', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }), [WP2]: wp({ lane: 'planned' }) } });
    repo.git('checkout', '-q', '-b', 'feature');
    repo.commit('1', { files: { [WP1]: wp({ lane: 'doing' }) } });
    repo.commit('2', { files: { [WP1]: wp({ lane: 'for_review' }) } });
    repo.commit('3', { files: { [WP1]: wp({ lane: 'done' }) } });
    repo.git('checkout', '-q', 'main');
    repo.commit('other work', { files: { [WP2]: wp({ lane: 'doing' }) } });
    repo.git('checkout', '-q', 'feature');
    const before = queued(repo);
    repo.git('rebase', '-q', 'main');
    const after = queued(repo);
    expect(after.map((e) => e.event_id)).toEqual(before.map((e) => e.event_id));
    expect(moves(after).sort()).toEqual(
      ['WP01 ->planned', 'WP01 doing>for_review', 'WP01 for_review>done', 'WP01 planned>doing', 'WP02 ->planned', 'WP02 planned>doing'].sort(),
    );
  });

  it('rebase -i with squash and fixup adds no event for the combined moves', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    repo.commit('a', { files: { [WP1]: wp({ lane: 'doing' }) } });
    repo.commit('b', { files: { [WP1]: wp({ lane: 'for_review' }) } });
    repo.commit('c', { files: { [WP1]: wp({ lane: 'done' }) } });
    const before = queued(repo);
    execFileSync('git', ['rebase', '-q', '-i', 'HEAD~3'], {
      cwd: repo.dir,
      env: { ...repo.env, GIT_SEQUENCE_EDITOR: "sed -i -e '2s/^pick/squash/' -e '3s/^pick/fixup/'", GIT_EDITOR: 'true' },
      stdio: 'pipe',
    });
    expect(repo.git('rev-list', '--count', 'HEAD')).toBe('4');
    expect(queued(repo).map((e) => e.event_id)).toEqual(before.map((e) => e.event_id));
  });

  it('cherry-pick keeps the event; revert adds a transition back', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    repo.git('checkout', '-q', '-b', 'side');
    const picked = repo.commit('start', { files: { [WP1]: wp({ lane: 'doing' }) } });
    repo.git('checkout', '-q', 'main');
    repo.commit('unrelated', { files: { 'notes.txt': 'x\n' } });
    const before = queued(repo);
    repo.git('cherry-pick', picked);
    expect(queued(repo).map((e) => e.event_id)).toEqual(before.map((e) => e.event_id));
    repo.git('revert', '--no-edit', 'HEAD');
    expect(moves(queued(repo)).slice(-1)).toEqual(['WP01 doing>planned']);
    expect(queued(repo)).toHaveLength(before.length + 1);
  });

  it("pull (fast-forward) and merge --no-ff bring a teammate's transitions, each once", async () => {
    const origin = gitdir({ 'README.md': 'x\n' });
    await origin.run(['init']);
    origin.commit('identity');
    origin.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }), [WP2]: wp({ lane: 'planned' }) } });
    const mine = tempDir();
    execFileSync('git', ['clone', '-q', origin.dir, join(mine, 'me')], { env: origin.env });
    const me = gitdir({}, { dir: join(mine, 'me') });
    me.env.KITTY_HOOK_SYNC = '1';
    expect((await me.run(['hooks', 'install'])).code).toBe(0);

    origin.commit('teammate starts WP01', { files: { [WP1]: wp({ lane: 'doing' }) } });
    origin.commit('teammate reviews WP01', { files: { [WP1]: wp({ lane: 'for_review' }) } });
    me.git('pull', '-q', '--ff-only');
    expect(moves(queued(me))).toEqual(['WP01 planned>doing', 'WP01 doing>for_review']);

    origin.commit('teammate starts WP02', { files: { [WP2]: wp({ lane: 'doing' }) } });
    me.commit('my notes', { files: { 'notes.txt': 'mine\n' } });
    me.git('pull', '-q', '--no-rebase', '--no-ff', '--no-edit');
    me.git('pull', '-q', '--no-rebase', '--no-edit');
    expect(moves(queued(me))).toEqual(['WP01 planned>doing', 'WP01 doing>for_review', 'WP02 planned>doing']);

    const teammate = gitdir({}, { dir: origin.dir, home: tempDir() });
    const theirs = JSON.parse((await teammate.run(['derive', '--dry-run', '--json'])).stdout) as { event_id: string }[];
    for (const event of queued(me)) expect(theirs.map((e) => e.event_id)).toContain(event.event_id);
  });

  it("merge --squash then commit: the teammate's moves once, the squash commit adds nothing", async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    repo.git('checkout', '-q', '-b', 'teammate');
    const env = { ...repo.env, KITTY: '0' };
    for (const lane of ['doing', 'for_review']) {
      repo.write(WP1, wp({ lane }));
      execFileSync('git', ['commit', '-q', '-am', `to ${lane}`], { cwd: repo.dir, env });
    }
    repo.git('checkout', '-q', 'main');
    repo.git('merge', '-q', '--squash', 'teammate');
    repo.git('commit', '-q', '-m', 'squashed teammate work');
    expect(moves(queued(repo))).toEqual(['WP01 ->planned', 'WP01 planned>doing', 'WP01 doing>for_review']);
  });

  it('git am (post-applypatch) captures the applied patch', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    repo.git('checkout', '-q', '-b', 'side');
    repo.write(WP1, wp({ lane: 'doing' }));
    execFileSync('git', ['commit', '-q', '-am', 'start'], { cwd: repo.dir, env: { ...repo.env, KITTY: '0' } });
    const patches = tempDir();
    repo.git('format-patch', '-q', '-o', patches, 'main..side');
    repo.git('checkout', '-q', 'main');
    repo.git('am', '-q', ...readdirSync(patches).map((name) => join(patches, name)));
    expect(moves(queued(repo))).toEqual(['WP01 ->planned', 'WP01 planned>doing']);
  });

  it('a linked worktree commits through the shared hooks with the same project uuid', async () => {
    const repo = await hookedRepo();
    const worktree = join(tempDir(), 'wt');
    repo.git('worktree', 'add', '-q', '-b', 'wt', worktree);
    mkdirSync(join(worktree, F), { recursive: true });
    writeFileSync(join(worktree, F, 'WP05.md'), wp({ lane: 'planned' }));
    execFileSync('git', ['add', '-A'], { cwd: worktree, env: repo.env });
    execFileSync('git', ['commit', '-q', '-m', 'wp in worktree'], { cwd: worktree, env: repo.env });
    const events = queued(repo);
    expect(moves(events)).toEqual(['WP05 ->planned']);
    expect(events[0]!.project_uuid).toBe(JSON.parse((await repo.run(['identity', '--json'])).stdout).project_uuid);
    expect(events[0]!.git.branch).toBe('wt');
  });

  it('two worktrees committing at the same time lose nothing', async () => {
    const repo = await hookedRepo({ background: true });
    const trees = [repo.dir, join(tempDir(), 'wt')];
    repo.git('worktree', 'add', '-q', '-b', 'other', trees[1]!);
    const commits = trees.map((dir, i) => {
      const path = join(dir, F);
      mkdirSync(path, { recursive: true });
      for (let n = 0; n < 3; n++) writeFileSync(join(path, `WP${i}${n}.md`), wp({ lane: 'planned' }));
      execFileSync('git', ['add', '-A'], { cwd: dir, env: repo.env });
      return new Promise<void>((resolve, reject) => {
        const child = spawn('git', ['commit', '-q', '-m', 'parallel'], { cwd: dir, env: repo.env, stdio: 'ignore' });
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`commit exited ${code}`))));
      });
    });
    await Promise.all(commits);
    const events = await waitFor(
      () => queued(repo),
      (list) => list.length >= 6,
    );
    expect(moves(events).sort()).toEqual(['WP00 ->planned', 'WP01 ->planned', 'WP02 ->planned', 'WP10 ->planned', 'WP11 ->planned', 'WP12 ->planned']);
  });

  it('KITTY=0 skips a commit; the next hook run catches it up', async () => {
    const repo = await hookedRepo();
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    repo.write(WP1, wp({ lane: 'doing' }));
    const skipped = spawnSync('git', ['commit', '-q', '-am', 'quiet'], { cwd: repo.dir, env: { ...repo.env, KITTY: '0' }, encoding: 'utf8' });
    expect(skipped.status).toBe(0);
    expect(skipped.stderr).toBe('');
    expect(moves(queued(repo))).toEqual(['WP01 ->planned']);
    repo.commit('next', { files: { [WP2]: wp({ lane: 'planned' }) } });
    expect(moves(queued(repo)).sort()).toEqual(['WP01 ->planned', 'WP01 planned>doing', 'WP02 ->planned']);
  });

  it('a worker killed with SIGKILL loses nothing: the next hook run completes its capture', async () => {
    const repo = await hookedRepo({ background: true });
    const commonKitty = join(repo.dir, '.git', 'kitty');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // hold the worker lock so the background worker is caught waiting, then kill it
    const holding = withFileLock(join(commonKitty, 'worker.lock'), () => held);
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    const pids = await waitFor(
      () => workerPids(repo.dir),
      (list) => list.length > 0,
      5_000,
    );
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    release();
    await holding;
    expect(queued(repo)).toEqual([]);
    expect(readdirSync(join(commonKitty, 'requests')).length).toBeGreaterThan(0);
    repo.commit('start', { files: { [WP1]: wp({ lane: 'doing' }) } });
    const events = await waitFor(
      () => queued(repo),
      (list) => list.length >= 2,
    );
    expect(moves(events)).toEqual(['WP01 ->planned', 'WP01 planned>doing']);
    await waitFor(
      () => readdirSync(join(commonKitty, 'requests')),
      (list) => list.length === 0,
    );
  });

  it('background capture: a piped git commit is not held up, and the event lands in the queue', async () => {
    const repo = await hookedRepo({ background: true });
    repo.write(WP1, wp({ lane: 'planned' }));
    // the worker is kept waiting on its lock, so the commit must return while it still runs
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holding = withFileLock(join(repo.dir, '.git', 'kitty', 'worker.lock'), () => held);
    try {
      // GUIs and `git commit | cat` wait for every holder of git's stdout: the worker must hold none
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable, expanded by sh
      const result = spawnSync('sh', ['-c', 'git add -A && git commit -q -m plan | cat; exit "${PIPESTATUS:-0}"'], {
        cwd: repo.dir,
        env: repo.env,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('');
      expect(repo.git('log', '-1', '--format=%s')).toBe('plan');
      const [pid] = await waitFor(
        () => workerPids(repo.dir),
        (list) => list.length > 0,
        5_000,
      );
      expect([0, 1, 2].map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`))).toEqual(['/dev/null', '/dev/null', '/dev/null']);
    } finally {
      release();
      await holding;
    }
    const events = await waitFor(
      () => queued(repo),
      (list) => list.length >= 1,
    );
    expect(moves(events)).toEqual(['WP01 ->planned']);
  });
});

describe('kitty hooks install / uninstall / status', () => {
  it("keeps a user's post-commit hook running, and uninstall restores it byte for byte", async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    const marker = join(tempDir(), 'ran');
    const hookPath = join(repo.dir, '.git/hooks/post-commit');
    const original = `#!/bin/sh\n# my own hook\necho "ran $*" >> '${marker}'\n`;
    writeFileSync(hookPath, original, { mode: 0o750 });
    repo.env.KITTY_HOOK_SYNC = '1';
    const install = await repo.run(['hooks', 'install', '--json']);
    expect(install.code, install.stderr).toBe(0);
    expect(JSON.parse(install.stdout).hooks[0]).toMatchObject({ name: 'post-commit', action: 'chained' });
    expect(JSON.parse((await repo.run(['hooks', 'status', '--json'])).stdout).hooks[0]).toMatchObject({ state: 'chained' });
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    expect(readFileSync(marker, 'utf8')).toBe('ran \n');
    expect(moves(queued(repo))).toEqual(['WP01 ->planned']);
    expect((await repo.run(['hooks', 'install'])).code).toBe(0);
    expect((await repo.run(['hooks', 'uninstall'])).code).toBe(0);
    expect(readFileSync(hookPath, 'utf8')).toBe(original);
    expect(existsSync(`${hookPath}.pre-kitty`)).toBe(false);
    expect(readdirSync(join(repo.dir, '.git/hooks')).filter((name) => !name.endsWith('.sample'))).toEqual(['post-commit']);
    expect(JSON.parse((await repo.run(['hooks', 'status', '--json'])).stdout).hooks.map((h: { state: string }) => h.state)).toEqual([
      'foreign',
      'missing',
      'missing',
      'missing',
    ]);
  });

  it("chains git-lfs's hooks, and takes over again after `git lfs update --force` replaced its stub", async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    // what git-lfs 3.3 writes, byte for byte; git-lfs itself is not installed here, so it complains
    const lfsHook = (hook: string): string =>
      `#!/bin/sh\ncommand -v git-lfs >/dev/null 2>&1 || { echo >&2 "\\nThis repository is configured for Git LFS but 'git-lfs' was not found on your path. If you no longer wish to use Git LFS, remove this hook by deleting the '${hook}' file in the hooks directory (set by 'core.hookspath'; usually '.git/hooks').\\n"; exit 2; }\ngit lfs ${hook} "$@"\n`;
    const hookPath = join(repo.dir, '.git/hooks/post-commit');
    writeFileSync(hookPath, lfsHook('post-commit'), { mode: 0o755 });
    repo.env.KITTY_HOOK_SYNC = '1';
    const install = await repo.run(['hooks', 'install']);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stderr).toContain(`kitty: note: git-lfs's post-commit hook is kept as ${hookPath}.pre-kitty and still runs`);
    repo.git('add', '-A');
    repo.git('commit', '-q', '-m', 'identity');
    repo.write(WP1, wp({ lane: 'planned' }));
    repo.git('add', '-A');
    const commit = spawnSync('git', ['commit', '-q', '-m', 'plan'], { cwd: repo.dir, env: repo.env, encoding: 'utf8' });
    expect(commit.status).toBe(0);
    expect(commit.stderr).toContain("configured for Git LFS but 'git-lfs' was not found");
    expect(moves(queued(repo))).toEqual(['WP01 ->planned']);

    writeFileSync(hookPath, lfsHook('post-commit'), { mode: 0o755 });
    const status = JSON.parse((await repo.run(['hooks', 'status', '--json'])).stdout).hooks[0];
    expect(status).toMatchObject({ name: 'post-commit', state: 'foreign', chained: `${hookPath}.pre-kitty` });
    expect(status.detail).toContain("git-lfs's hook");
    const again = await repo.run(['hooks', 'install', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).hooks[0]).toMatchObject({ name: 'post-commit', action: 'chained' });
    repo.commit('start', { files: { [WP1]: wp({ lane: 'doing' }) } });
    expect(moves(queued(repo))).toEqual(['WP01 ->planned', 'WP01 planned>doing']);
    expect((await repo.run(['hooks', 'uninstall'])).code).toBe(0);
    expect(readFileSync(hookPath, 'utf8')).toBe(lfsHook('post-commit'));
    expect(existsSync(`${hookPath}.pre-kitty`)).toBe(false);
  });

  it('works with husky: a marked line in .husky/<hook>, not in the generated .husky/_', async () => {
    const repo = gitdir({ 'README.md': 'x\n', 'package.json': '{"name":"x"}\n' });
    const husky = join(repo.dir, '.husky');
    mkdirSync(join(husky, '_'), { recursive: true });
    // what husky 9 generates: each hook in .husky/_ runs the user's script .husky/<hook> with sh -e
    for (const hook of ['post-commit', 'post-merge', 'post-rewrite', 'post-applypatch']) {
      writeFileSync(join(husky, '_', hook), `#!/bin/sh\nn=$(basename "$0")\ns="$(dirname "$(dirname "$0")")/$n"\n[ -f "$s" ] || exit 0\nsh -e "$s" "$@"\n`, {
        mode: 0o755,
      });
    }
    writeFileSync(join(husky, 'post-commit'), 'echo "lint ok" > /dev/null\n');
    repo.git('config', 'core.hooksPath', '.husky/_');
    repo.env.KITTY_HOOK_SYNC = '1';
    const install = await repo.run(['hooks', 'install']);
    expect(install.code, install.stderr).toBe(0);
    expect(readFileSync(join(husky, 'post-commit'), 'utf8')).toMatch(/^echo "lint ok" > \/dev\/null\nk=.*# kitty \(managed by/);
    expect(readdirSync(join(husky, '_')).sort()).toEqual(['post-applypatch', 'post-commit', 'post-merge', 'post-rewrite']);
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    expect(moves(queued(repo))).toEqual(['WP01 ->planned']);
    expect((await repo.run(['hooks', 'uninstall'])).code).toBe(0);
    expect(readFileSync(join(husky, 'post-commit'), 'utf8')).toBe('echo "lint ok" > /dev/null\n');
    expect(existsSync(join(husky, 'post-merge'))).toBe(false);
  });

  it('explains a husky worktree whose generated hooks are missing', async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    mkdirSync(join(repo.dir, '.husky'));
    repo.git('config', 'core.hooksPath', '.husky/_');
    const install = await repo.run(['hooks', 'install']);
    expect(install.code).toBe(0);
    expect(install.stderr).toContain('.husky/_ is missing in this worktree');
    expect(install.stderr).toContain('run `npx husky`');
  });

  it('handles a repository path with spaces and quotes', async () => {
    const dir = join(tempDir(), `it's a "quoted" dir`);
    const repo = await hookedRepo({ dir, home: join(tempDir(), 'state with space') });
    repo.commit('plan', { files: { [WP1]: wp({ lane: 'planned' }) } });
    expect(moves(queued(repo))).toEqual(['WP01 ->planned']);
  });

  it('skips when CI is set unless --force; refuses a global core.hooksPath', async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    const ci = await repo.run(['hooks', 'install', '--json'], { env: { CI: 'true' } });
    expect(JSON.parse(ci.stdout).skipped).toMatch(/CI is set/);
    expect(existsSync(join(repo.dir, '.git/hooks/post-commit'))).toBe(false);
    expect((await repo.run(['hooks', 'install', '--force'], { env: { CI: 'true' } })).code).toBe(0);
    expect(existsSync(join(repo.dir, '.git/hooks/post-commit'))).toBe(true);

    const other = gitdir({ 'README.md': 'x\n' });
    const globalConfig = join(tempDir(), 'gitconfig');
    writeFileSync(globalConfig, `[core]\n\thooksPath = ${join(tempDir(), 'shared-hooks')}\n`);
    const refused = await other.run(['hooks', 'install'], { env: { GIT_CONFIG_GLOBAL: globalConfig } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^kitty: error KITTY_ERR_HOOKS_GLOBAL_PATH: core\.hooksPath is set in your global git config .*; hint: .*git config core\.hooksPath \.git\/hooks/,
    );
  });

  it('reports a stub whose node moved as stale, and reinstall fixes it', async () => {
    const repo = await hookedRepo();
    const hookPath = join(repo.dir, '.git/hooks/post-merge');
    writeFileSync(hookPath, readFileSync(hookPath, 'utf8').replace(/^kitty_node=.*$/m, "kitty_node='/nowhere/node'"));
    chmodSync(hookPath, 0o755);
    const status = await repo.run(['hooks', 'status', '--json']);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout).hooks[1]).toMatchObject({ name: 'post-merge', state: 'stale' });
    expect(JSON.parse(status.stdout).hooks[1].detail).toContain('node not found at /nowhere/node');
    expect((await repo.run(['hooks', 'install'])).code).toBe(0);
    expect((await repo.run(['hooks', 'status'])).code).toBe(0);
  });
});

/** Hook worker processes working in this repository. */
function workerPids(repoDir: string): number[] {
  return processesIn(repoDir).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('hooks\0worker');
    } catch {
      return false;
    }
  });
}

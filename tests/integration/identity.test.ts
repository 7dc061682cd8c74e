import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { kebab, projectSlug, repoNameFromUrl } from '../../src/identity/slug.js';
import { CLI, gitdir, ROOT, type RunResult, tempDir, testEnv } from '../helpers/gitdir.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface IdentityJson {
  project_uuid: string;
  project_slug: string;
  node_id: string;
  source: string;
}

function identity(result: RunResult): IdentityJson {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as IdentityJson;
}

const machineNodeId = createHash('sha256').update(`${hostname()}:${userInfo().username}`).digest('hex').slice(0, 12);

describe('project identity', () => {
  it('kitty init copies the commented template and backfills uuid, slug and node_id', async () => {
    const repo = gitdir({}, { dir: join(tempDir(), 'My_Cool Repo') });
    const first = identity(await repo.run(['init', '--json']));
    expect(first.project_uuid).toMatch(UUID_V4);
    expect(first.project_slug).toBe('my-cool-repo');
    expect(first.node_id).toBe(machineNodeId);
    expect(first.source).toBe('written');
    const text = readFileSync(join(repo.dir, '.kittify/config.yaml'), 'utf8');
    expect(text).toContain('# Commit this file');
    expect(text).toContain(`uuid: ${first.project_uuid}`);
    expect(text).toMatch(/auto_start: true/);
    const again = identity(await repo.run(['identity', '--json']));
    expect(again).toEqual({ ...first, source: 'file' });
  });

  it('fills only what is missing and keeps comments, key order, unknown keys and the file mode', async () => {
    const repo = gitdir();
    const original = [
      '# team settings, hand-written',
      'custom_top: 1',
      'project:',
      '  # pinned by the team',
      '  uuid: 0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e',
      '  extra: keep-me   # inline comment',
      'sync:',
      '  auto_start: false',
      'zzz_last: [a, b]',
      '',
    ].join('\n');
    repo.write('.kittify/config.yaml', original);
    chmodSync(join(repo.dir, '.kittify/config.yaml'), 0o640);
    const result = identity(await repo.run(['init', '--json']));
    expect(result.project_uuid).toBe('0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e');
    const text = readFileSync(join(repo.dir, '.kittify/config.yaml'), 'utf8');
    const slug = /\n {2}slug: ([a-z0-9-]+)\n/.exec(text)?.[1];
    expect(slug).toBe(result.project_slug);
    // byte for byte the original, plus the two backfilled lines at the end of `project:`
    expect(text).toBe(original.replace('# inline comment\n', `# inline comment\n  slug: ${slug}\n  node_id: ${result.node_id}\n`));
    expect(statSync(join(repo.dir, '.kittify/config.yaml')).mode & 0o777).toBe(0o640);
    expect(readdirSync(join(repo.dir, '.kittify'))).toEqual(['config.yaml']);
  });

  it('takes the slug from the origin remote in its https and ssh forms', async () => {
    const repo = gitdir();
    repo.git('remote', 'add', 'origin', 'git@github.com:Acme-Corp/Road_Map.git');
    expect(identity(await repo.run(['identity', '--json'])).project_slug).toBe('road-map');
    expect(projectSlug('https://github.com/acme/widgets.git/', '/x/y')).toBe('widgets');
    expect(projectSlug('https://gitlab.example.com/group/sub/Spec--Kitty/', '/x/y')).toBe('spec-kitty');
    expect(projectSlug('ssh://git@host:2222/owner/repo', '/x/y')).toBe('repo');
    expect(projectSlug(undefined, '/home/me/__Weird  Name__')).toBe('weird-name');
    expect(repoNameFromUrl('git@host:owner/repo.git')).toBe('repo');
    expect(kebab('--a--b--')).toBe('a-b');
  });

  it('gives every worktree of one repository the same uuid', async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    const main = identity(await repo.run(['init', '--json']));
    const worktree = join(tempDir(), 'wt');
    repo.git('worktree', 'add', '-q', worktree);
    expect(existsSync(join(worktree, '.kittify/config.yaml'))).toBe(false);
    const linked = identity(await repo.run(['identity', '--json'], { cwd: worktree }));
    expect(linked.project_uuid).toBe(main.project_uuid);
    expect(linked.source).toBe('written');
  });

  it('lets concurrent first writers agree on one uuid', async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    const runs = await Promise.all(Array.from({ length: 6 }, () => repo.kittyAsync(['init', '--json'])));
    const uuids = new Set(runs.map((run) => identity(run).project_uuid));
    expect(uuids.size).toBe(1);
    const text = readFileSync(join(repo.dir, '.kittify/config.yaml'), 'utf8');
    expect(text).toContain(`uuid: ${[...uuids][0]}`);
    expect(runs.filter((run) => identity(run).source === 'written')).toHaveLength(1);
  });

  it('keeps a malformed config as a backup, repairs it with the same uuid, and --strict refuses it', async () => {
    const repo = gitdir();
    const broken = 'project:\n  uuid: 7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b\n  slug: [unclosed\n';
    repo.write('.kittify/config.yaml', broken);
    const strict = await repo.run(['init', '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^kitty: error KITTY_ERR_CONFIG_MALFORMED: malformed YAML in .*config\.yaml:\d+/);
    expect(readFileSync(join(repo.dir, '.kittify/config.yaml'), 'utf8')).toBe(broken);

    const result = await repo.run(['init', '--json']);
    expect(identity(result).project_uuid).toBe('7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b');
    expect(result.stderr).toMatch(/malformed YAML .* kept the original as config\.yaml\.bak-/);
    const backups = readdirSync(join(repo.dir, '.kittify')).filter((name) => name.startsWith('config.yaml.bak-'));
    expect(backups).toHaveLength(1);
    expect(readFileSync(join(repo.dir, '.kittify', backups[0]!), 'utf8')).toBe(broken);
  });

  it('falls back to one deterministic in-memory identity in a read-only checkout, with one warning', () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    for (const dir of [repo.dir, join(repo.dir, '.git')]) chmodSync(dir, 0o755);
    chmodSync(repo.home, 0o777);
    if (process.getuid?.() === 0) letOthersReach(ROOT);
    const asReader = (): RunResult => {
      const env = testEnv(repo.home, {
        HOME: repo.home,
        // git refuses repositories owned by another user unless told they are safe
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'safe.directory',
        GIT_CONFIG_VALUE_0: '*',
      });
      const asRoot = process.getuid?.() === 0;
      if (!asRoot) chmodSync(repo.dir, 0o555);
      const result = spawnSync(process.execPath, [CLI, 'identity', '--json'], {
        cwd: repo.dir,
        env,
        encoding: 'utf8',
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      });
      if (!asRoot) chmodSync(repo.dir, 0o755);
      return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
    };
    const first = asReader();
    const second = asReader();
    const a = identity(first);
    const b = identity(second);
    expect(a.source).toBe('memory');
    expect(a.project_uuid).toMatch(UUID_V4);
    expect(b.project_uuid).toBe(a.project_uuid);
    expect(first.stderr.trim().split('\n')).toHaveLength(1);
    expect(first.stderr).toMatch(/not writable .* in-memory project identity/);
    expect(existsSync(join(repo.dir, '.kittify'))).toBe(false);
  });

  it("stamps events with this machine's node_id even when the committed config names another", async () => {
    const repo = gitdir();
    repo.write('.kittify/config.yaml', 'project:\n  uuid: 0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e\n  slug: demo\n  node_id: aaaaaaaaaaaa\n');
    repo.commit('config', { files: { 'kitty-specs/f/tasks/WP01.md': '---\nlane: planned\n---\n' } });
    const events = JSON.parse((await repo.run(['derive', '--dry-run', '--json'])).stdout) as { node_id: string; project_slug: string }[];
    expect(events[0]).toMatchObject({ node_id: machineNodeId, project_slug: 'demo' });
  });

  it('reports an unreadable config with its code', async () => {
    // root reads any file whatever its mode; a directory in the file's place is unreadable for everyone
    const repo = gitdir();
    repo.write('.kittify/config.yaml/nested', 'x');
    const result = await repo.run(['identity']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^kitty: error KITTY_ERR_CONFIG_UNREADABLE: cannot read .*config\.yaml \(EISDIR\); hint: /);
  });
});

/**
 * Root cannot be refused a write, so the read-only case runs kitty as `nobody`, who must be able to
 * reach the checkout (a clone inside a `mktemp -d` folder is 0700). Ancestors get o+x for the test
 * and their modes back afterwards.
 */
function letOthersReach(path: string): void {
  for (let dir = path; dir !== dirname(dir); dir = dirname(dir)) {
    const mode = statSync(dir).mode & 0o7777;
    if (mode & 0o001) continue;
    chmodSync(dir, mode | 0o001);
    onTestFinished(() => chmodSync(dir, mode));
  }
}

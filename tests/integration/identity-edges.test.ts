import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { resolveIdentity } from '../../src/identity/index.js';
import { machineNodeId } from '../../src/identity/node-id.js';
import { deterministicUuid } from '../../src/identity/uuid.js';
import { gitdir, type Repo } from '../helpers/gitdir.js';

const UUID = '3f2b8c1d-5e6f-4a7b-9c8d-0e1f2a3b4c5d';
const CONFIG = '.kittify/config.yaml';

function repoWithOrigin(files: Record<string, string> = { 'README.md': 'x\n' }): Repo {
  const repo = gitdir(files);
  repo.git('remote', 'add', 'origin', 'git@example.com:team/My_Repo.git');
  return repo;
}

const rootCommit = (repo: Repo): string => repo.git('rev-list', '--max-parents=0', 'HEAD');
const record = (repo: Repo): unknown => JSON.parse(readFileSync(join(repo.dir, '.git', 'kitty', 'identity.json'), 'utf8'));

describe('resolveIdentity without writing', () => {
  it('holds a deterministic identity in memory, named after the origin, and writes nothing', async () => {
    const repo = repoWithOrigin();
    const warnings: string[] = [];
    const identity = await resolveIdentity({ cwd: repo.dir, env: repo.env, write: false, warn: (line) => warnings.push(line) });
    expect(identity).toEqual({
      projectUuid: deterministicUuid(rootCommit(repo)),
      projectSlug: 'my-repo',
      nodeId: machineNodeId(),
      autoStart: true,
      serverUrl: null,
      source: 'memory',
      configPath: join(repo.dir, CONFIG),
    });
    expect(warnings).toEqual([]);
    expect(existsSync(join(repo.dir, '.kittify'))).toBe(false);
    expect(existsSync(join(repo.dir, '.git', 'kitty'))).toBe(false);
  });

  it('keeps what a partial config says (slug, auto_start, server_url) for the in-memory identity', async () => {
    const repo = repoWithOrigin();
    repo.write(CONFIG, `project:\n  uuid: ${UUID}\n  slug: chosen\nsync:\n  auto_start: false\n  server_url: https://kitty.example.com\n`);
    expect(await resolveIdentity({ cwd: repo.dir, env: repo.env, write: false })).toMatchObject({
      projectUuid: UUID,
      projectSlug: 'chosen',
      autoStart: false,
      serverUrl: 'https://kitty.example.com',
      source: 'memory',
    });
  });

  it('reads a malformed config in memory, warning once per file; strict refuses it', async () => {
    const repo = repoWithOrigin();
    repo.write(CONFIG, 'project: [broken\n');
    const configPath = join(repo.dir, CONFIG);
    const warnings: string[] = [];
    const options = { cwd: repo.dir, env: repo.env, write: false, warn: (line: string) => warnings.push(line) };
    const first = await resolveIdentity(options);
    const second = await resolveIdentity(options);
    expect(second).toEqual(first);
    expect(first).toMatchObject({ projectUuid: deterministicUuid(rootCommit(repo)), projectSlug: 'my-repo', source: 'memory' });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toBe(
      `kitty: warning: ${configPath} is malformed and names no project.uuid, and nothing else records one; using the repository's deterministic uuid ${first.projectUuid}`,
    );
    expect(warnings[1]).toMatch(
      new RegExp(`^kitty: malformed YAML in ${configPath}:\\d+ \\(.+\\); using an in-memory project identity \\(uuid ${first.projectUuid}\\)\\. Make `),
    );

    for (const write of [false, true]) {
      const refused = await resolveIdentity({ ...options, write, strict: true }).catch((error: unknown) => error);
      expect(refused).toMatchObject({
        code: 'KITTY_ERR_CONFIG_MALFORMED',
        message: expect.stringMatching(new RegExp(`^malformed YAML in ${configPath}:\\d+: `)),
        hint: 'fix the YAML by hand, or run `kitty init` to keep a backup and write a repaired file (the uuid is kept)',
      });
    }
    expect(readFileSync(configPath, 'utf8')).toBe('project: [broken\n');
  });
});

describe('resolveIdentity writing', () => {
  it('completes a partial config, keeping its uuid, comments and settings, and records the identity', async () => {
    const repo = repoWithOrigin();
    repo.write(CONFIG, `# ours\nproject:\n  uuid: ${UUID} # keep\nsync:\n  server_url: https://kitty.example.com\n`);
    const identity = await resolveIdentity({ cwd: repo.dir, env: repo.env, write: true });
    expect(identity).toMatchObject({ projectUuid: UUID, projectSlug: 'my-repo', source: 'written', serverUrl: 'https://kitty.example.com', autoStart: true });
    expect(readFileSync(join(repo.dir, CONFIG), 'utf8')).toBe(
      `# ours\nproject:\n  uuid: ${UUID} # keep\n  slug: my-repo\n  node_id: ${machineNodeId()}\nsync:\n  server_url: https://kitty.example.com\n  auto_start: true\n`,
    );
    expect(record(repo)).toEqual({ project_uuid: UUID, project_slug: 'my-repo' });
    expect(await resolveIdentity({ cwd: repo.dir, env: repo.env, write: true })).toEqual({ ...identity, source: 'file' });
  });

  it('writes the missing identity record of a complete config, and reads on when it cannot', async () => {
    const repo = repoWithOrigin();
    repo.write(CONFIG, `project:\n  uuid: ${UUID}\n  slug: s\n  node_id: abcdefabcdef\n`);
    const read = await resolveIdentity({ cwd: repo.dir, env: repo.env, write: false });
    expect(read).toMatchObject({ projectUuid: UUID, projectSlug: 's', nodeId: machineNodeId(), source: 'file' });
    expect(existsSync(join(repo.dir, '.git', 'kitty'))).toBe(false);
    expect(await resolveIdentity({ cwd: repo.dir, env: repo.env, write: true })).toEqual(read);
    expect(record(repo)).toEqual({ project_uuid: UUID, project_slug: 's' });

    rmSync(join(repo.dir, '.git', 'kitty'), { recursive: true });
    writeFileSync(join(repo.dir, '.git', 'kitty'), 'in the way');
    expect(await resolveIdentity({ cwd: repo.dir, env: repo.env, write: true })).toEqual(read);
  });

  it('repairs a malformed config from the template, keeping the original as a backup', async () => {
    const repo = repoWithOrigin();
    repo.write(CONFIG, `project: [broken\n  uuid: ${UUID}\n`);
    const warnings: string[] = [];
    const identity = await resolveIdentity({ cwd: repo.dir, env: repo.env, write: true, warn: (line) => warnings.push(line) });
    expect(identity).toMatchObject({ projectUuid: UUID, projectSlug: 'my-repo', source: 'written' });
    const backups = readdirSync(join(repo.dir, '.kittify')).filter((name) => name.startsWith('config.yaml.bak-'));
    expect(backups).toHaveLength(1);
    expect(readFileSync(join(repo.dir, '.kittify', backups[0]!), 'utf8')).toBe(`project: [broken\n  uuid: ${UUID}\n`);
    expect(warnings).toEqual([
      expect.stringMatching(new RegExp(`^kitty: malformed YAML in .*; kept the original as ${backups[0]} and wrote a repaired file$`)),
    ]);
    expect(readFileSync(join(repo.dir, CONFIG), 'utf8')).toContain(`uuid: ${UUID}`);
  });

  it('passes on a failure to write that is not a read-only repository', async () => {
    const repo = repoWithOrigin();
    writeFileSync(join(repo.dir, '.git', 'kitty'), 'in the way');
    await expect(resolveIdentity({ cwd: repo.dir, env: repo.env, write: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(existsSync(join(repo.dir, '.kittify'))).toBe(false);
  });

  describe('while another process holds the identity lock', () => {
    async function racing(repo: Repo, meanwhile: () => void, strict = false) {
      const lock = join(repo.dir, '.git', 'kitty', 'identity.lock');
      mkdirSync(join(repo.dir, '.git', 'kitty'), { recursive: true });
      writeFileSync(lock, `${process.pid} ${hostname()} ${Date.now()}\n`);
      const pending = resolveIdentity({ cwd: repo.dir, env: repo.env, write: true, strict }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      await sleep(150);
      meanwhile();
      rmSync(lock);
      return pending;
    }

    it('the first persisted identity wins: what the other process wrote is read, not overwritten', async () => {
      const repo = repoWithOrigin();
      const theirs = `project:\n  uuid: ${UUID}\n  slug: theirs\n  node_id: abcdefabcdef\n`;
      const outcome = await racing(repo, () => repo.write(CONFIG, theirs));
      expect(outcome).toMatchObject({ value: { projectUuid: UUID, projectSlug: 'theirs', source: 'file' } });
      expect(readFileSync(join(repo.dir, CONFIG), 'utf8')).toBe(theirs);
    });

    it('strict refuses the malformed config the other process left', async () => {
      const repo = repoWithOrigin();
      const outcome = await racing(repo, () => repo.write(CONFIG, 'project: [broken\n'), true);
      expect(outcome).toMatchObject({ error: { code: 'KITTY_ERR_CONFIG_MALFORMED' } });
      expect(readFileSync(join(repo.dir, CONFIG), 'utf8')).toBe('project: [broken\n');
    });
  });
});

import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deterministicUuid } from '../../src/identity/uuid.js';
import { gitdir, type Repo, type RunResult } from '../helpers/gitdir.js';

const CONFIG = '.kittify/config.yaml';
/** A uuid line cut mid-value and left in broken YAML: neither the parser nor a salvage can read it. */
const UNREADABLE = 'project:\n  uuid: 7d1f2a3b-4c5d-4e6f-8a9b\n  slug: [demo\n';

function identity(result: RunResult): { project_uuid: string; source: string } {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { project_uuid: string; source: string };
}

/** A repository whose identity is committed, as a team keeps it. */
async function committedIdentity(): Promise<{ origin: Repo; uuid: string }> {
  const origin = gitdir({ 'README.md': 'x\n' });
  const { project_uuid: uuid } = identity(await origin.run(['init', '--json']));
  origin.commit('kitty identity');
  return { origin, uuid };
}

/** A fresh copy of the history: the committed config, and no identity record in its git dir. */
function clone(origin: Repo): Repo {
  const repo = gitdir();
  repo.git('pull', '-q', origin.dir, 'main');
  return repo;
}

describe('a malformed .kittify/config.yaml never makes a new project', () => {
  it.each([
    ['an unreadable uuid in broken YAML', UNREADABLE],
    ['a uuid that is no uuid', 'project:\n  uuid: 12345\n  slug: demo\n'],
  ])('%s: the uuid comes back from the last commit, with a warning', async (_name, broken) => {
    const { origin, uuid } = await committedIdentity();
    const repo = clone(origin);
    repo.write(CONFIG, broken);
    const result = await repo.run(['identity', '--json']);
    expect(identity(result)).toMatchObject({ project_uuid: uuid, source: 'written' });
    expect(result.stderr).toContain(`; kept the project's uuid ${uuid} from the committed ${CONFIG} (HEAD)`);
    expect(readFileSync(join(repo.dir, CONFIG), 'utf8')).toContain(`uuid: ${uuid}`);
  });

  it('a uuid that is there but unreadable, and kept nowhere else: refused with a clear error, the file left alone', async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    identity(await repo.run(['init', '--json']));
    rmSync(join(repo.dir, '.git', 'kitty', 'identity.json'));
    repo.write(CONFIG, UNREADABLE);
    for (const command of [['identity'], ['init']]) {
      const result = await repo.run(command);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `kitty: error KITTY_ERR_CONFIG_UUID_LOST: project.uuid in ${join(repo.dir, CONFIG)} cannot be read (seen "7d1f2a3b-4c5d-4e6f-8a9b"), and no identity record, worktree or commit holds it; ` +
          `hint: write the project's uuid back into ${join(repo.dir, CONFIG)} (queued events carry it: \`kitty events list --state all --json\`), or remove the uuid line to start a new project\n`,
      );
    }
    expect(readFileSync(join(repo.dir, CONFIG), 'utf8')).toBe(UNREADABLE);
    expect(readdirSync(join(repo.dir, '.kittify'))).toEqual(['config.yaml']);
  });

  it("a malformed config that names no uuid at all gets the deterministic fallback of the repository's root commit", async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    repo.write(CONFIG, 'project: [broken\n');
    const result = await repo.run(['identity', '--json']);
    const expected = deterministicUuid(repo.git('rev-list', '--max-parents=0', 'HEAD'));
    expect(identity(result).project_uuid).toBe(expected);
    expect(result.stderr).toContain(`names no project.uuid, and nothing else records one; using the repository's deterministic uuid ${expected}`);
  });
});

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitdir, wp } from '../helpers/gitdir.js';

describe('kitty wp move finds exactly one work package, or says which to pick', () => {
  it('a WP id in two features is refused with the features and a --feature example', async () => {
    const repo = gitdir({ 'kitty-specs/001-a/tasks/WP01.md': wp({ lane: 'planned' }), 'kitty-specs/002-b/tasks/WP01.md': wp({ lane: 'planned' }) });
    const result = await repo.run(['wp', 'move', 'wp01', 'doing']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'kitty: error KITTY_ERR_USAGE: wp01 exists in several features: 001-a, 002-b; hint: pick one with --feature, e.g. `kitty wp move wp01 doing --feature 001-a`\n',
    );
    const picked = await repo.run(['wp', 'move', 'wp01', 'doing', '--feature', '002-b', '--no-commit', '--json']);
    expect(picked.code, picked.stderr).toBe(0);
    expect(JSON.parse(picked.stdout)).toMatchObject({ feature: '002-b', wp_id: 'WP01', to_lane: 'doing', commit: null });
  });

  it('an id missing from the named feature lists only that feature; a repository without WPs says where they go', async () => {
    const repo = gitdir({ 'kitty-specs/001-a/tasks/WP01.md': wp({ lane: 'planned' }), 'kitty-specs/002-b/tasks/WP02.md': wp({ lane: 'planned' }) });
    const missing = await repo.run(['wp', 'move', 'WP02', 'doing', '--feature', '001-a']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('kitty: error KITTY_ERR_USAGE: no work package WP02 in feature 001-a; hint: work packages here: 001-a/WP01\n');
    const empty = gitdir({ 'README.md': 'x\n' });
    const none = await empty.run(['wp', 'move', 'WP01', 'doing']);
    expect(none.stderr).toBe('kitty: error KITTY_ERR_USAGE: no work package WP01; hint: there are no work packages in kitty-specs/<feature>/tasks/\n');
  });

  it('more than a WP id and a lane is a usage error', async () => {
    const repo = gitdir({ 'kitty-specs/001-a/tasks/WP01.md': wp({ lane: 'planned' }) });
    const result = await repo.run(['wp', 'move', 'WP01', 'doing', 'now']);
    expect([result.code, result.stderr]).toEqual([
      2,
      'kitty: error KITTY_ERR_USAGE: kitty wp move: give a WP id and a lane; hint: e.g. `kitty wp move WP01 doing`\n',
    ]);
  });
});

describe('kitty wp move without a configured git user or a readable config', () => {
  it('records the agent as "unknown", moves a WP that had no lane from ∅, and commits with the default message', async () => {
    const repo = gitdir({ 'kitty-specs/001-a/tasks/WP01.md': wp({}) });
    repo.git('config', '--unset', 'user.name');
    repo.git('config', '--unset', 'user.email');
    // a directory where the config file would be: it cannot be read, so the default message is used
    mkdirSync(join(repo.dir, '.kittify', 'config.yaml'), { recursive: true });
    const env = { GIT_CONFIG_GLOBAL: '/dev/null' };
    const result = await repo.run(['wp', 'move', 'WP01', 'doing'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^kitty: 001-a\/WP01 ∅ → doing \(committed [0-9a-f]{7}\)\n$/);
    const text = readFileSync(join(repo.dir, 'kitty-specs/001-a/tasks/WP01.md'), 'utf8');
    expect(text).toMatch(/\nhistory:\n {2}- timestamp: \S+\n {4}lane: doing\n {4}agent: unknown\n/);
    expect(repo.git('log', '-1', '--format=%s')).toBe('WP01: no lane → doing');
  });
});

import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { wp } from '../helpers/gitdir.js';
import { F, hookedRepo } from '../helpers/hooks.js';
import { login, startServer } from '../helpers/server.js';

describe('kitty board', () => {
  it('shows the working tree\'s lanes (flat and legacy layouts), skipping a malformed file with a warning', () => {
    const repo = hookedRepo();
    repo.write(`${F}/WP01-api.md`, wp({ lane: 'doing', title: 'API' }));
    repo.write(`${F}/WP02-ui.md`, wp({ lane: 'done', title: 'UI' }));
    repo.write('kitty-specs/002-old/tasks/for_review/WP07-legacy.md', wp({ title: 'Legacy' }));
    repo.write(`${F}/WP09.md`, '---\nlane: [broken\n---\n');
    const json = repo.kitty(['board', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      features: {
        '001-demo': { WP01: { lane: 'doing', title: 'API', path: `${F}/WP01-api.md` }, WP02: { lane: 'done', title: 'UI', path: `${F}/WP02-ui.md` } },
        '002-old': { WP07: { lane: 'for_review', title: 'Legacy', path: 'kitty-specs/002-old/tasks/for_review/WP07-legacy.md' } },
      },
    });
    expect(json.stderr).toMatch(/KITTY_ERR_WP_MALFORMED: .*WP09\.md:2/);
    const human = repo.kitty(['board', '--feature', '001-demo']);
    expect(human.stdout).toMatch(/^001-demo\ndoing \(1\) +done \(1\)\nWP01 API +WP02 UI\n/);
    expect(human.stdout).not.toContain('\x1b[');
    expect(repo.kitty(['board'], { env: { NO_COLOR: '', FORCE_COLOR: '1' } }).stdout).toContain('\x1b[');
    const unknown = repo.kitty(['board', '--feature', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('features here: 001-demo, 002-old');
  });
});

describe('kitty sync verify', () => {
  it('finds no difference after the flush, and the exact one after an event is deleted on the server', async () => {
    const server = await startServer();
    const repo = hookedRepo();
    expect(login(server.url, repo.dir, repo.env).code).toBe(0);
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }), [`${F}/WP02.md`]: wp({ lane: 'planned' }) } });
    repo.commit('move', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    expect(repo.kitty(['sync', 'flush']).code).toBe(0);
    const clean = repo.kitty(['sync', 'verify', '--json']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ in_sync: true, differences: [] });

    const db = new Database(join(server.data, 'server.db'));
    db.prepare("DELETE FROM events WHERE json_extract(envelope, '$.payload.to_lane') = 'doing'").run();
    db.prepare("DELETE FROM events WHERE json_extract(envelope, '$.payload.wp_id') = 'WP02'").run();
    db.close();
    const drift = repo.kitty(['sync', 'verify', '--json']);
    expect(drift.code).toBe(1);
    expect(JSON.parse(drift.stdout).differences).toEqual([
      { feature: '001-demo', wp_id: 'WP01', kind: 'different-lane', local_lane: 'doing', server_lane: 'planned' },
      { feature: '001-demo', wp_id: 'WP02', kind: 'missing-on-server', local_lane: 'planned', server_lane: null },
    ]);
    const human = repo.kitty(['sync', 'verify']);
    expect(human.stdout).toContain('001-demo/WP01: lane doing here, planned on the server');
    expect(human.stdout).toContain('fix: `kitty derive` then `kitty sync flush`');
  });
});

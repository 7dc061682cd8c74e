import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import Database from '../../src/deps/better-sqlite3.js';
import { gitdir, wp } from '../helpers/gitdir.js';
import { F, hookedRepo } from '../helpers/hooks.js';
import { login, startServer } from '../helpers/server.js';

describe('kitty board', () => {
  it("shows the working tree's lanes (flat and legacy layouts), skipping a malformed file with a warning", async () => {
    const repo = await hookedRepo();
    repo.write(`${F}/WP01-api.md`, wp({ lane: 'doing', title: 'API' }));
    repo.write(`${F}/WP02-ui.md`, wp({ lane: 'done', title: 'UI' }));
    repo.write('kitty-specs/002-old/tasks/for_review/WP07-legacy.md', wp({ title: 'Legacy' }));
    repo.write(`${F}/WP09.md`, '---\nlane: [broken\n---\n');
    const json = await repo.run(['board', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      features: {
        '001-demo': {
          WP01: { lane: 'doing', title: 'API', path: `${F}/WP01-api.md`, source: 'frontmatter' },
          WP02: { lane: 'done', title: 'UI', path: `${F}/WP02-ui.md`, source: 'frontmatter' },
        },
        '002-old': { WP07: { lane: 'for_review', title: 'Legacy', path: 'kitty-specs/002-old/tasks/for_review/WP07-legacy.md', source: 'frontmatter' } },
      },
    });
    expect(json.stderr).toMatch(/KITTY_ERR_WP_MALFORMED: .*WP09\.md:2/);
    const human = await repo.run(['board', '--feature', '001-demo']);
    // every lane of the vocabulary, empty ones too
    expect(human.stdout).toMatch(/^001-demo\nplanned \(0\) +doing \(1\) +for_review \(0\) +done \(1\)\n +WP01 API +WP02 UI\n/);
    expect(human.stdout).not.toContain('\x1b[');
    expect((await repo.run(['board'], { env: { NO_COLOR: '', FORCE_COLOR: '1' } })).stdout).toContain('\x1b[');
    const unknown = await repo.run(['board', '--feature', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('features here: 001-demo, 002-old');
  });
});

describe('kitty board with status logs', () => {
  const LOG = 'kitty-specs/055-x/status.events.jsonl';
  const T = 'kitty-specs/055-x/tasks';
  const line = (wpId: string, from: string, to: string, extra = '') =>
    `{"event_id":"01JGZ5W3Q0A1B2C3D4E5F6G7H8","wp_id":"${wpId}","from_lane":"${from}","to_lane":"${to}","at":"2026-01-03T10:11:12.345+00:00","actor":"claude","feature_slug":"055-x"${extra}}`;

  it('reads a log-era feature from its log next to a frontmatter-era one, warning about a malformed line', async () => {
    const repo = gitdir({ 'README.md': 'demo\n' });
    repo.write(`${F}/WP01-api.md`, wp({ lane: 'doing', title: 'API' }));
    repo.write(`${T}/WP01-cart.md`, wp({ lane: 'planned', title: 'Cart' }));
    repo.write(`${T}/WP02-pay.md`, wp({ lane: 'planned', title: 'Pay' }));
    repo.write(`${T}/WP03-docs.md`, wp({ lane: 'for_review', title: 'Docs' }));
    repo.write(`${T}/WP04.md`, '---\nlane: [broken\n---\n');
    repo.write(
      LOG,
      [
        line('WP01', 'genesis', 'planned'),
        line('WP02', 'genesis', 'planned'),
        line('WP01', 'planned', 'in_progress'),
        '{"kind": "annotation", "wp_id": "WP01", "delta": {}}',
        '{"wp_id": "WP02", "to_lane": ',
        line('WP02', 'planned', 'done'),
        line('WP04', 'planned', 'blocked'),
        line('WP09', 'genesis', 'approved'),
        line('WP01', 'in_progress', 'for_review'),
      ].join('\n'),
    );
    const json = await repo.run(['board', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      features: {
        '001-demo': { WP01: { lane: 'doing', title: 'API', path: `${F}/WP01-api.md`, source: 'frontmatter' } },
        '055-x': {
          WP01: { lane: 'for_review', title: 'Cart', path: `${T}/WP01-cart.md`, source: 'status-log' },
          WP02: { lane: 'done', title: 'Pay', path: `${T}/WP02-pay.md`, source: 'status-log' },
          WP03: { lane: 'for_review', title: 'Docs', path: `${T}/WP03-docs.md`, source: 'frontmatter' },
          WP04: { lane: 'blocked', title: null, path: `${T}/WP04.md`, source: 'status-log' },
          WP09: { lane: 'approved', title: null, path: LOG, source: 'status-log' },
        },
      },
    });
    expect(json.stderr).toContain(`kitty: warning: skipped ${LOG}:5: not JSON`);
    expect(json.stderr).toMatch(/KITTY_ERR_WP_MALFORMED: .*WP04\.md:2.*; lane blocked from kitty-specs\/055-x\/status\.events\.jsonl/);
    expect(json.stderr).not.toContain(':4:');
    const human = await repo.run(['board', '--feature', '055-x'], { env: { COLUMNS: '200' } });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(
      /^055-x\nplanned \(0\) +claimed \(0\) +in_progress \(0\) +for_review \(2\) +in_review \(0\) +approved \(1\) +done \(1\) +blocked \(1\) +canceled \(0\)\n +WP01 Cart +WP09 +WP02 Pay +WP04\n +WP03 Docs\n/,
    );
  });

  it('shows a WP in `doing` under `in_progress` when the feature shows the 9 lanes', async () => {
    const repo = gitdir({
      [LOG]: `${line('WP01', 'genesis', 'planned')}\n${line('WP01', 'planned', 'in_progress')}\n`,
      [`${T}/WP05-old.md`]: wp({ lane: 'doing', title: 'Old' }),
    });
    const human = await repo.run(['board'], { env: { COLUMNS: '200' } });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^055-x\nplanned \(0\) +claimed \(0\) +in_progress \(2\) +for_review \(0\) .*canceled \(0\)\n +WP01\n +WP05 Old\n\n$/);
  });

  it('shows a feature that only has a status log', async () => {
    const repo = gitdir({ [LOG]: `${line('WP01', 'genesis', 'planned')}\n${line('WP01', 'planned', 'doing')}\n` });
    const human = await repo.run(['board']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^055-x\nplanned \(0\) +doing \(1\) +for_review \(0\) +done \(0\)\n {25}WP01\n\n$/);
    expect(human.stderr).toBe('');
  });
});

describe('kitty sync verify', () => {
  it("finds no difference after the flush, and the exact ones after the server's board lost a move and a WP", async () => {
    const server = await startServer();
    const repo = await hookedRepo();
    expect((await login(server.url, repo.dir, repo.env)).code).toBe(0);
    repo.commit('plan', { files: { [`${F}/WP01.md`]: wp({ lane: 'planned' }), [`${F}/WP02.md`]: wp({ lane: 'planned' }) } });
    repo.commit('move', { files: { [`${F}/WP01.md`]: wp({ lane: 'doing' }) } });
    expect((await repo.run(['sync', 'flush'])).code).toBe(0);
    const clean = await repo.run(['sync', 'verify', '--json']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ in_sync: true, differences: [] });

    const db = new Database(join(server.data, 'server.db'));
    // the server keeps its board as a table updated as events arrive: drift is simulated there
    expect(db.prepare("UPDATE board SET lane = 'planned' WHERE wp_id = 'WP01'").run().changes).toBe(1);
    expect(db.prepare("DELETE FROM board WHERE wp_id = 'WP02'").run().changes).toBe(1);
    db.close();
    const drift = await repo.run(['sync', 'verify', '--json']);
    expect(drift.code).toBe(1);
    expect(JSON.parse(drift.stdout).differences).toEqual([
      {
        feature: '001-demo',
        wp_id: 'WP01',
        kind: 'different-lane',
        local_lane: 'doing',
        server_lane: 'planned',
        cause: 'server-lost',
        fix: expect.stringContaining('kitty doctor'),
      },
      {
        feature: '001-demo',
        wp_id: 'WP02',
        kind: 'missing-on-server',
        local_lane: 'planned',
        server_lane: null,
        cause: 'server-lost',
        fix: expect.stringContaining('kitty doctor'),
      },
    ]);
    const human = await repo.run(['sync', 'verify']);
    expect(human.stdout).toContain('001-demo/WP01: lane doing here, planned on the server');
    expect(human.stdout).toContain('001-demo/WP01: lane doing here, planned on the server; fix: the server acknowledged its move but its board lacks it');
  });
});

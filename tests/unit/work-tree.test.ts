import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareBoards } from '../../src/cli/commands/sync-verify.js';
import { readWorkTree } from '../../src/workpackage/tree.js';
import { tempDir, wp, writeFile } from '../helpers/gitdir.js';

function tree(files: Record<string, string>): string {
  const root = tempDir();
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFile(join(root, path), content);
  }
  return root;
}

const LOG = 'kitty-specs/055-x/status.events.jsonl';
const move = (wpId: string, from: string, to: string) =>
  JSON.stringify({
    event_id: '01JGZ6A0000000000000000000',
    wp_id: wpId,
    from_lane: from,
    to_lane: to,
    at: '2026-01-03T10:11:12Z',
    actor: 'c',
    mission_slug: '055-x',
  });

describe('canonical state of the working tree', () => {
  it("takes a log-era feature's lanes from the last transition line of its log, the rest from the frontmatter or folder", () => {
    const root = tree({
      'kitty-specs/055-x/tasks/WP01-a.md': wp({ lane: 'planned', title: 'A' }),
      'kitty-specs/055-x/tasks/WP02-b.md': wp({ lane: 'planned', title: 'B' }),
      'kitty-specs/055-x/tasks/done/WP03-c.md': wp({ lane: 'planned', title: 'C' }),
      [LOG]: [
        move('WP01', 'genesis', 'planned'),
        move('WP01', 'planned', 'in_progress'),
        move('WP03', 'done', 'planned'),
        move('WP01', 'in_progress', 'in_progress'),
      ].join('\n'),
      'kitty-specs/001-old/tasks/for_review/WP01.md': wp({ lane: 'planned' }),
    });
    const warnings: string[] = [];
    const wps = readWorkTree(root, (line) => warnings.push(line));
    expect(wps.map((w) => `${w.feature}/${w.wpId} ${w.lane} ${w.source} ${w.statusLog ?? '-'}`)).toEqual([
      '001-old/WP01 for_review frontmatter -',
      `055-x/WP01 in_progress status-log ${LOG}`,
      `055-x/WP02 planned frontmatter ${LOG}`,
      `055-x/WP03 planned status-log ${LOG}`,
    ]);
    expect(warnings).toEqual([]);
  });

  it('feeds sync verify the canonical lanes: a stale frontmatter lane is no difference, doing and in_progress are one lane', () => {
    const root = tree({
      'kitty-specs/055-x/tasks/WP01.md': wp({ lane: 'planned' }),
      'kitty-specs/055-x/tasks/WP02.md': wp({ lane: 'planned' }),
      [LOG]: `${move('WP01', 'planned', 'for_review')}\n${move('WP02', 'planned', 'doing')}\n{bad\n${move('WP03', 'genesis', 'done')}\n`,
    });
    const warnings: string[] = [];
    const local = readWorkTree(root, (line) => warnings.push(line));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.startsWith(`kitty: warning: skipped ${LOG}:3: not JSON`)).toBe(true);
    const server = { features: { '055-x': { WP01: { lane: 'for_review' }, WP02: { lane: 'in_progress' }, WP03: { lane: 'planned' } } } };
    expect(compareBoards(local, server)).toEqual([{ feature: '055-x', wp_id: 'WP03', kind: 'different-lane', local_lane: 'done', server_lane: 'planned' }]);
  });
});

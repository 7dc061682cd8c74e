import { describe, expect, it } from 'vitest';
import { gitdir, type RunResult, wp } from '../helpers/gitdir.js';

const ESC = '\x1b';
/** What a terminal would obey: C0 controls but the line end, DEL, C1 controls, bidi overrides. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for raw control characters in the output
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const FEATURE = `001-evil${ESC}]0;pwned${ESC}\\`;
const TITLE = `Clear${ESC}[2J${ESC}[H the screen\u202eoot`;
const LANE = `doing${ESC}[8m`;
const AUTHOR = `Mallory${ESC}[31m`;

function hostileRepo() {
  const repo = gitdir({ 'README.md': 'x\n' });
  const tasks = `kitty-specs/${FEATURE}/tasks`;
  repo.write(`${tasks}/WP01.md`, wp({ lane: JSON.stringify(LANE), title: JSON.stringify(TITLE) }));
  repo.write(`${tasks}/WP02.md`, `---\nlane: planned\ntitle: [unclosed ${ESC}[5m\n---\n`);
  // the repository's git runs share this env: the author is the commit's only
  repo.env.GIT_AUTHOR_NAME = AUTHOR;
  repo.git('add', '-A');
  repo.git('commit', '-q', '-m', 'plan');
  delete repo.env.GIT_AUTHOR_NAME;
  return repo;
}

function expectNoRawControl(result: RunResult): void {
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout.replaceAll('\n', '')).not.toMatch(RAW_CONTROL);
  expect(result.stderr.replaceAll('\n', '')).not.toMatch(RAW_CONTROL);
}

describe('repository data never reaches the terminal raw', () => {
  it('board, derive --dry-run, events list and their warnings show control characters as visible escapes; --json stays exact', async () => {
    const repo = hostileRepo();
    const board = await repo.run(['board']);
    expectNoRawControl(board);
    expect(board.stdout).toContain('001-evil\\x1b]0;pwned\\x1b\\');
    expect(board.stdout).toContain('doing\\x1b[8m');

    const dryRun = await repo.run(['derive', '--dry-run']);
    expectNoRawControl(dryRun);
    expect(dryRun.stdout).toContain('→ doing\\x1b[8m');
    expect(dryRun.stderr).toContain('unknown lane "doing\\x1b[8m"');

    expectNoRawControl(await repo.run(['derive']));
    const list = await repo.run(['events', 'list', '--state', 'all']);
    expectNoRawControl(list);
    expect(list.stdout).toContain('001-evil\\x1b]0;pwned\\x1b\\/WP01');
    await expectExactJson(repo);
  });
});

/** --json output stays exact JSON, control characters and all. */
async function expectExactJson(repo: ReturnType<typeof hostileRepo>): Promise<void> {
  const board = JSON.parse((await repo.run(['board', '--json'])).stdout) as { features: Record<string, Record<string, { lane: string; title: string }>> };
  expect(board.features[FEATURE]!.WP01).toMatchObject({ lane: LANE, title: TITLE });
  const queued = JSON.parse((await repo.run(['events', 'list', '--json'])).stdout) as { payload: { feature_slug: string; to_lane: string; actor: string } }[];
  expect(queued[0]!.payload).toMatchObject({ feature_slug: FEATURE, to_lane: LANE, actor: AUTHOR });
}

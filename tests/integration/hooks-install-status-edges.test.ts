import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, gitdir } from '../helpers/gitdir.js';

interface Status {
  husky: { dir: string; generated: boolean } | null;
  hooks: { name: string; state: string; path: string; chained: string | null; detail: string | null }[];
  ok: boolean;
}

const status = async (repo: ReturnType<typeof gitdir>): Promise<{ code: number; json: Status }> => {
  const result = await repo.run(['hooks', 'status', '--json']);
  return { code: result.code, json: JSON.parse(result.stdout) as Status };
};

describe('kitty hooks install never clobbers', () => {
  it('a user hook next to an older kept hook of different text is a conflict: KITTY_ERR_HOOKS_CONFLICT, both left as they were', async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    const hooks = join(repo.dir, '.git', 'hooks');
    mkdirSync(hooks, { recursive: true });
    writeFileSync(join(hooks, 'post-commit'), '#!/bin/sh\necho mine\n', { mode: 0o755 });
    writeFileSync(join(hooks, 'post-commit.pre-kitty'), '#!/bin/sh\necho older\n', { mode: 0o755 });
    const result = await repo.run(['hooks', 'install']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `kitty: error KITTY_ERR_HOOKS_CONFLICT: both ${hooks}/post-commit and ${hooks}/post-commit.pre-kitty exist and neither is kitty's; hint: keep the hook you want as ${hooks}/post-commit.pre-kitty, remove ${hooks}/post-commit, then rerun \`kitty hooks install\`\n`,
    );
    expect(readFileSync(join(hooks, 'post-commit'), 'utf8')).toBe('#!/bin/sh\necho mine\n');
    expect(readFileSync(join(hooks, 'post-commit.pre-kitty'), 'utf8')).toBe('#!/bin/sh\necho older\n');
  });

  it("husky: kitty's line goes on a line of its own after a hook without a final newline; status checks that line", async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    mkdirSync(join(repo.dir, '.husky', '_'), { recursive: true });
    repo.git('config', 'core.hooksPath', '.husky/_');
    writeFileSync(join(repo.dir, '.husky', 'post-merge'), 'npm install');
    const install = await repo.run(['hooks', 'install']);
    expect(install.code, install.stderr).toBe(0);
    const lines = readFileSync(join(repo.dir, '.husky', 'post-merge'), 'utf8').split('\n');
    expect(lines[0]).toBe('npm install');
    expect(lines[1]).toMatch(
      /^k="\$\(git rev-parse --git-common-dir 2>\/dev\/null\)\/kitty\/hooks\/post-merge"; .* # kitty \(managed by `kitty hooks install`\)$/,
    );
    expect(lines.slice(2)).toEqual(['']);
    const installed = await status(repo);
    expect(installed.code).toBe(0);
    expect(installed.json.husky).toEqual({ dir: join(repo.dir, '.husky'), generated: true });
    expect(installed.json.hooks.map((hook) => [hook.name, hook.state])).toEqual([
      ['post-commit', 'installed'],
      ['post-merge', 'installed'],
      ['post-rewrite', 'installed'],
      ['post-applypatch', 'installed'],
    ]);
    // the husky file lost kitty's line (a merge of the team's version, say): the stub alone does nothing
    writeFileSync(join(repo.dir, '.husky', 'post-merge'), 'npm install\n');
    const lost = await status(repo);
    expect(lost.code).toBe(1);
    expect(lost.json.hooks[1]).toMatchObject({
      name: 'post-merge',
      state: 'stale',
      detail: `no kitty line in ${join(repo.dir, '.husky', 'post-merge')}: run \`kitty hooks install\``,
    });
  });
});

describe('kitty hooks status names what makes a stub stale', () => {
  it('another kitty, an older stub version, a stub that is not executable, a kitty that is gone', async () => {
    const repo = gitdir({ 'README.md': 'x\n' });
    expect((await repo.run(['hooks', 'install'])).code).toBe(0);
    const hooks = join(repo.dir, '.git', 'hooks');
    const edit = (name: string, change: (text: string) => string) => writeFileSync(join(hooks, name), change(readFileSync(join(hooks, name), 'utf8')));
    const other = join(repo.dir, 'other-kitty.js');
    writeFileSync(other, '');
    const quoted = (path: string) => `'${path}'`;
    edit('post-commit', (text) => text.replace(quoted(CLI), quoted(other)));
    edit('post-merge', (text) => text.replace(/^# kitty-hook-version: \d+$/m, '# kitty-hook-version: 1'));
    chmodSync(join(hooks, 'post-rewrite'), 0o644);
    edit('post-applypatch', (text) => text.replace(quoted(CLI), quoted(join(repo.dir, 'gone.js'))));
    const { code, json } = await status(repo);
    expect(code).toBe(1);
    expect(json.ok).toBe(false);
    const fix = ': run `kitty hooks install`';
    expect(json.hooks.map((hook) => [hook.name, hook.state, hook.detail])).toEqual([
      ['post-commit', 'stale', `points at another kitty (${other})${fix}`],
      ['post-merge', 'stale', expect.stringMatching(/^stub version 1 \(current \d+\): run `kitty hooks install`$/)],
      ['post-rewrite', 'stale', `not executable${fix}`],
      ['post-applypatch', 'stale', `kitty not found at ${join(repo.dir, 'gone.js')}${fix}`],
    ]);
    // install puts every one right again
    expect((await repo.run(['hooks', 'install'])).code).toBe(0);
    expect((await status(repo)).json.hooks.every((hook) => hook.state === 'installed')).toBe(true);
  });
});

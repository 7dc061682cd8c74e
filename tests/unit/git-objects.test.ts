import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTree } from '../../src/derive/blobs.js';
import type { CatFileBatch as SourceCatFileBatch } from '../../src/git/cat-file.js';
import { gitdir, ROOT } from '../helpers/gitdir.js';

// the threaded reader starts its worker from the built file next to it, so these tests use the build
const { CatFileBatch } = (await import(join(ROOT, 'dist', 'git', 'cat-file.js'))) as { CatFileBatch: typeof SourceCatFileBatch };

function hashObject(dir: string, content: Buffer): string {
  return execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: dir, input: content, encoding: 'utf8' }).trim();
}

describe('cat-file --batch reader', () => {
  it.each([false, true])('returns every object whole and in order, however the pipe splits them (sizes 0 to 8 MiB; threaded: %s)', async (threaded) => {
    const repo = gitdir();
    const contents = [
      Buffer.alloc(0),
      Buffer.from('one line\n'),
      Buffer.alloc(8 * 1024 * 1024 + 3, 'x'),
      Buffer.from('no newline at the end'),
      Buffer.alloc(70_000, '\n'),
    ];
    const shas = contents.map((content) => hashObject(repo.dir, content));
    const reader = new CatFileBatch(repo.dir, repo.env, { threaded });
    try {
      const read = await Promise.all([...shas, 'f'.repeat(40), shas[1]!].map((sha) => reader.read(sha)));
      expect(read.slice(0, 5).map((buffer) => createHash('sha1').update(buffer!).digest('hex'))).toEqual(
        contents.map((content) => createHash('sha1').update(content).digest('hex')),
      );
      expect(read[5]).toBeNull();
      expect(read[6]!.toString()).toBe('one line\n');
    } finally {
      await reader.close();
    }
  });

  it('passes over an object above its limit without keeping it, and answers the next one', async () => {
    const repo = gitdir();
    const big = hashObject(repo.dir, Buffer.alloc(2 * 1024 * 1024, 'y'));
    const small = hashObject(repo.dir, Buffer.from('small\n'));
    const reader = new CatFileBatch(repo.dir, repo.env, { maxBytes: 1024 * 1024 });
    try {
      const [tooBig, after] = await Promise.all([reader.object(big), reader.object(small)]);
      expect(tooBig).toEqual({ sha: big, size: 2 * 1024 * 1024, data: null });
      expect(after!.data!.toString()).toBe('small\n');
    } finally {
      await reader.close();
    }
  });

  it.each([false, true])("hands out a kept version's successor as its tail, and whole when it is no append (threaded: %s)", async (threaded) => {
    const repo = gitdir();
    const v1 = hashObject(repo.dir, Buffer.from('a\nb\n'));
    const v2 = hashObject(repo.dir, Buffer.from('a\nb\nc\n'));
    const v3 = hashObject(repo.dir, Buffer.from('x\nb\nc\nd\n'));
    const reader = new CatFileBatch(repo.dir, repo.env, { threaded });
    try {
      const [first, second, third] = await Promise.all([
        reader.object(v1, { keep: true }),
        reader.object(v2, { keep: true, base: v1 }),
        reader.object(v3, { keep: true, base: v2 }),
      ]);
      expect([Buffer.from(first!.data!).toString(), first!.prefix]).toEqual(['a\nb\n', undefined]);
      expect([Buffer.from(second!.data!).toString(), second!.prefix]).toEqual(['c\n', 4]);
      expect([Buffer.from(third!.data!).toString(), third!.prefix]).toEqual(['x\nb\nc\nd\n', undefined]);
    } finally {
      await reader.close();
    }
  });

  it('reads a tree by rev:path and parses its entries', async () => {
    const repo = gitdir({ 'kitty-specs/f/tasks/done/WP01-a.md': 'a\n', 'kitty-specs/f/tasks/WP02 b.md': 'b\n' });
    const reader = new CatFileBatch(repo.dir, repo.env);
    try {
      const tree = await reader.object('HEAD:kitty-specs/f/tasks');
      const entries = parseTree(Buffer.from(tree!.data!), tree!.sha.length / 2);
      expect(entries).toEqual([
        { name: 'WP02 b.md', sha: repo.git('rev-parse', 'HEAD:kitty-specs/f/tasks/WP02 b.md'), isTree: false },
        { name: 'done', sha: repo.git('rev-parse', 'HEAD:kitty-specs/f/tasks/done'), isTree: true },
      ]);
      expect(await reader.object('HEAD:kitty-specs/nothing')).toBeNull();
    } finally {
      await reader.close();
    }
  });
});

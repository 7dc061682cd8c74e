import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTree } from '../../src/derive/blobs.js';
import type { CatFileBatch as SourceCatFileBatch } from '../../src/git/cat-file.js';
import { type ObjectRequest, ObjectStream } from '../../src/git/object-stream.js';
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

describe('cat-file --batch output parser', () => {
  /** git's answer to `requests`: each object's header, body and newline, for the contents given. */
  function answer(contents: readonly (Buffer | null)[]): Buffer {
    return Buffer.concat(
      contents.map((content, index) =>
        content
          ? Buffer.concat([Buffer.from(`${String(index).padStart(40, '0')} blob ${content.length}\n`), content, Buffer.from('\n')])
          : Buffer.from(`x${index} missing\n`),
      ),
    );
  }

  /** Feeds the answer in chunks of `size` bytes; returns each object as text and its prefix. */
  function parse(requests: ObjectRequest[], contents: readonly (Buffer | null)[], size: number, maxBytes = Number.POSITIVE_INFINITY) {
    const objects: { text: string | null; prefix?: number; size?: number }[] = [];
    const stream = new ObjectStream(maxBytes, (object) =>
      objects.push(object ? { text: object.data && Buffer.from(object.data).toString(), prefix: object.prefix, size: object.size } : { text: null }),
    );
    stream.expect(requests);
    const bytes = answer(contents);
    for (let at = 0; at < bytes.length; at += size) stream.push(bytes.subarray(at, at + size));
    return objects;
  }

  const sha = (index: number) => String(index).padStart(40, '0');

  it.each([1, 3, 7, 4096])('hands out each version of a growing file as its tail, over %s-byte chunks', (size) => {
    const versions = Array.from({ length: 40 }, (_, index) => Buffer.from(Array.from({ length: index + 1 }, (_, line) => `line ${line}\n`).join('')));
    const requests = versions.map((_, index) => ({ name: sha(index), keep: true, base: index > 0 ? sha(index - 1) : undefined }));
    const objects = parse(requests, versions, size);
    expect(objects[0]).toEqual({ text: 'line 0\n', prefix: undefined, size: 7 });
    // past 32 kept pieces the base is joined into one: the tails stay exact
    expect(objects.slice(1).map((object) => [object.text, object.prefix])).toEqual(
      versions.slice(0, -1).map((base, index) => [`line ${index + 1}\n`, base.length]),
    );
  });

  it.each([1, 5, 4096])('hands out a version whole when it stops matching its base at any byte, over %s-byte chunks', (size) => {
    const base = Buffer.from('first line\nsecond line\n');
    const contents = [base, Buffer.from('first line\nsecond LINE\nthird\n'), Buffer.from('first line\nsecond line\nthird\n'), Buffer.from('first')];
    const requests = [
      { name: sha(0), keep: true },
      { name: sha(1), keep: true, base: sha(0) },
      { name: sha(2), base: sha(1) },
      { name: sha(3), base: sha(2) },
    ];
    expect(parse(requests, contents, size).map((object) => [object.text, object.prefix])).toEqual([
      ['first line\nsecond line\n', undefined],
      ['first line\nsecond LINE\nthird\n', undefined],
      // compared with the whole kept version before it, which differs from it
      ['first line\nsecond line\nthird\n', undefined],
      // its base was not kept
      ['first', undefined],
    ]);
  });

  it('reads a version whole when its base does not end a line, is longer, or was already used', () => {
    const contents = [Buffer.from('a\nb'), Buffer.from('a\nbc\n'), Buffer.from('x\n'), Buffer.from('x\ny\n'), Buffer.from('x\ny\nz\n')];
    const requests = [
      { name: sha(0), keep: true },
      { name: sha(1), base: sha(0) },
      { name: sha(2), keep: true },
      { name: sha(3), keep: true, base: sha(2) },
      { name: sha(4), base: sha(2) },
    ];
    expect(parse(requests, contents, 2).map((object) => object.prefix)).toEqual([undefined, undefined, undefined, 2, undefined]);
  });

  it('answers a missing object with null and passes over one above the limit, keeping the order', () => {
    const contents = [Buffer.from('kept\n'), null, Buffer.alloc(64, 'z'), Buffer.from('kept\nmore\n')];
    const requests = [{ name: sha(0), keep: true }, { name: 'x1' }, { name: sha(2), keep: true }, { name: sha(3), base: sha(0) }];
    expect(parse(requests, contents, 3, 32)).toEqual([
      { text: 'kept\n', prefix: undefined, size: 5 },
      { text: null },
      { text: null, prefix: undefined, size: 64 },
      { text: 'more\n', prefix: 5, size: 10 },
    ]);
  });
});

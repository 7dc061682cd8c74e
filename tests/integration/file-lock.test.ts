import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LockTimeoutError, withFileLock } from '../../src/state/lock.js';
import { ROOT, tempDir } from '../helpers/gitdir.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

const lockIn = (dir: string): string => join(dir, 'x.lock');

describe('withFileLock', () => {
  it("writes its owner line with the tag, answers fn's value and removes the lock", async () => {
    const path = lockIn(tempDir());
    const before = Date.now();
    const value = await withFileLock(
      path,
      () => {
        const [pid, host, at, tag, ...rest] = readFileSync(path, 'utf8').trimEnd().split(' ');
        expect([Number(pid), host, tag, rest]).toEqual([process.pid, hostname(), 'background', []]);
        expect(Number(at)).toBeGreaterThanOrEqual(before);
        return 42;
      },
      { tag: 'background' },
    );
    expect(value).toBe(42);
    expect(existsSync(path)).toBe(false);
    // without a tag, the line ends at the time
    const untagged = await withFileLock(path, () => readFileSync(path, 'utf8'));
    expect(untagged).toMatch(/^\d+ \S+ \d+\n$/);
    expect(untagged.startsWith(`${process.pid} ${hostname()} `)).toBe(true);
  });

  it('releases the lock when fn throws, and when fn already removed it', async () => {
    const path = lockIn(tempDir());
    await expect(withFileLock(path, () => Promise.reject(new Error('inside')))).rejects.toThrow('inside');
    expect(existsSync(path)).toBe(false);
    await expect(withFileLock(path, () => rmSync(path))).resolves.toBeUndefined();
  });

  it('passes on a failure other than a held lock', async () => {
    const path = join(tempDir(), 'missing-dir', 'x.lock');
    await expect(withFileLock(path, () => 1)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('serializes two holders in one process', async () => {
    const path = lockIn(tempDir());
    const order: string[] = [];
    const first = withFileLock(path, async () => {
      order.push('first in');
      await sleep(100);
      order.push('first out');
    });
    await sleep(10);
    const second = withFileLock(path, () => void order.push('second in'));
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  it('takes over a lock left by a dead process of this host, and one older than staleMs', async () => {
    const dir = tempDir();
    writeFileSync(lockIn(dir), `${deadPid()} ${hostname()} ${Date.now()}\n`);
    const started = Date.now();
    expect(await withFileLock(lockIn(dir), () => 'dead owner', { timeoutMs: 5_000 })).toBe('dead owner');
    writeFileSync(lockIn(dir), `${process.pid} ${hostname()} ${Date.now() - 60_000} background\n`);
    expect(await withFileLock(lockIn(dir), () => 'old owner', { timeoutMs: 5_000, staleMs: 30_000 })).toBe('old owner');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('processes that find one stale lock at once take it over one at a time: never two holders', async () => {
    const dir = tempDir();
    const path = lockIn(dir);
    const lock = pathToFileURL(join(ROOT, 'dist', 'state', 'lock.js')).href;
    const takers = 8;
    // without turns, two takers removed each other's fresh lock in about half of such rounds
    for (let round = 0; round < 5; round++) {
      const journal = join(dir, `journal-${round}`);
      const ready = join(dir, `ready-${round}`);
      const go = join(dir, `go-${round}`);
      mkdirSync(ready);
      // each process says it is ready, waits for the others, then holds the lock while it writes in/out
      const script = `
        import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
        import { setTimeout as sleep } from 'node:timers/promises';
        const { withFileLock } = await import(${JSON.stringify(lock)});
        writeFileSync(${JSON.stringify(ready)} + '/' + process.pid, '');
        while (!existsSync(${JSON.stringify(go)})) await sleep(1);
        await withFileLock(${JSON.stringify(path)}, async () => {
          appendFileSync(${JSON.stringify(journal)}, 'in\\n');
          await sleep(5);
          appendFileSync(${JSON.stringify(journal)}, 'out\\n');
        }, { timeoutMs: 30_000 });`;
      writeFileSync(path, `${deadPid()} ${hostname()} ${Date.now()}\n`);
      const children = Array.from({ length: takers }, () => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' }));
      const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
      while (readdirSync(ready).length < takers) await sleep(2);
      writeFileSync(go, '');
      expect(await Promise.all(exits)).toEqual(Array(takers).fill(0));
      expect(readFileSync(journal, 'utf8'), `round ${round}`).toBe('in\nout\n'.repeat(takers));
    }
  });

  it('waits out a live owner, or one of another host, and times out naming it', async () => {
    const dir = tempDir();
    for (const [owner, pid] of [
      [`${process.pid} ${hostname()} ${Date.now()}`, process.pid],
      [`${deadPid()} another-host ${Date.now()}`, null],
    ] as const) {
      writeFileSync(lockIn(dir), `${owner}\n`);
      const started = Date.now();
      const error = await withFileLock(lockIn(dir), () => 'never', { timeoutMs: 200 }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(LockTimeoutError);
      const timeout = error as LockTimeoutError;
      expect(timeout.path).toBe(lockIn(dir));
      expect(timeout.owner).toMatchObject({ host: owner.split(' ')[1], pid: pid ?? Number(owner.split(' ')[0]) });
      expect(timeout.message).toBe(`timed out waiting for lock ${lockIn(dir)} held by pid ${timeout.owner!.pid}`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      expect(readFileSync(lockIn(dir), 'utf8')).toBe(`${owner}\n`);
    }
  });

  it('never takes over a lock whose owner line it cannot read (still being written)', async () => {
    const dir = tempDir();
    for (const text of ['', '123 host-only\n']) {
      writeFileSync(lockIn(dir), text);
      const error = await withFileLock(lockIn(dir), () => 'never', { timeoutMs: 100, staleMs: 0 }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ owner: null, message: `timed out waiting for lock ${lockIn(dir)}` });
    }
    rmSync(lockIn(dir));
    mkdirSync(lockIn(dir));
    await expect(withFileLock(lockIn(dir), () => 'never', { timeoutMs: 100 })).rejects.toMatchObject({ owner: null });
  });

  it('gets the lock once the owner lets go while it waits', async () => {
    const dir = tempDir();
    writeFileSync(lockIn(dir), `${process.pid} ${hostname()} ${Date.now()}\n`);
    setTimeout(() => rmSync(lockIn(dir)), 100);
    expect(await withFileLock(lockIn(dir), () => 'after wait', { timeoutMs: 5_000 })).toBe('after wait');
  });
});

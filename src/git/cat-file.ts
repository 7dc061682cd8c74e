import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { errnoCode } from '../errors/index.js';
import { gitMissingError } from './run.js';

interface Waiter {
  resolve: (blob: Buffer | null) => void;
  reject: (error: Error) => void;
}

/**
 * One long-running `git cat-file --batch` for all blob reads of a run: spawning git per file would
 * cost ~2 ms each, which dominates derivation over thousands of commits. Requests are pipelined and
 * answered in order.
 */
export class CatFileBatch {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters: Waiter[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;

  constructor(cwd: string, env?: NodeJS.ProcessEnv) {
    this.child = spawn('git', ['cat-file', '--batch'], { cwd, env: env ?? process.env, stdio: 'pipe' });
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr.resume();
    this.child.stdin.on('error', (error) => this.fail(error));
    this.child.on('error', (error) => this.fail(errnoCode(error) === 'ENOENT' ? gitMissingError(error) : error));
    this.child.on('close', (code) => {
      if (this.waiters.length > 0) this.fail(new Error(`git cat-file --batch exited (${code}) with requests pending`));
    });
  }

  /** The blob's bytes, or null when the object does not exist. */
  read(sha: string): Promise<Buffer | null> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.child.stdin.write(`${sha}\n`);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        resolve();
        return;
      }
      this.child.once('close', () => resolve());
      this.child.stdin.end();
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    for (;;) {
      const eol = this.buffer.indexOf(10, offset);
      if (eol < 0) break;
      const header = this.buffer.toString('latin1', offset, eol);
      if (header.endsWith(' missing')) {
        offset = eol + 1;
        this.waiters.shift()?.resolve(null);
        continue;
      }
      const size = Number(header.slice(header.lastIndexOf(' ') + 1));
      const end = eol + 1 + size;
      if (this.buffer.length < end + 1) break;
      const blob = Buffer.from(this.buffer.subarray(eol + 1, end));
      offset = end + 1;
      this.waiters.shift()?.resolve(blob);
    }
    this.buffer = offset === 0 ? this.buffer : this.buffer.subarray(offset);
  }
}

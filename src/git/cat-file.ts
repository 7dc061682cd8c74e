import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { errnoCode } from '../errors/index.js';
import { gitMissingError } from './run.js';

/** An object read by `cat-file --batch`; `data` is null when it was larger than the reader's limit. */
export interface GitObject {
  sha: string;
  size: number;
  data: Buffer | null;
}

interface Waiter {
  resolve: (object: GitObject | null) => void;
  reject: (error: Error) => void;
}

/** The object being received: its bytes are copied once into `data` as chunks arrive. */
interface Incoming {
  sha: string;
  size: number;
  data: Buffer | null;
  received: number;
}

/**
 * One long-running `git cat-file --batch` for all blob reads of a run: spawning git per file would
 * cost ~2 ms each, which dominates derivation over thousands of commits. Requests are pipelined and
 * answered in order. Each object is copied once into a buffer of its announced size, so reading is
 * linear in its size however many chunks it arrives in; an object over `maxBytes` is passed over
 * without being kept.
 */
export class CatFileBatch {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters: Waiter[] = [];
  private readonly maxBytes: number;
  /** Bytes of an unfinished header line. */
  private header: Buffer = Buffer.alloc(0);
  private incoming: Incoming | null = null;
  private failure: Error | undefined;

  constructor(cwd: string, env?: NodeJS.ProcessEnv, options: { maxBytes?: number } = {}) {
    this.maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.child = spawn('git', ['cat-file', '--batch'], { cwd, env: env ?? process.env, stdio: 'pipe' });
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr.resume();
    this.child.stdin.on('error', (error) => this.fail(error));
    this.child.on('error', (error) => this.fail(errnoCode(error) === 'ENOENT' ? gitMissingError(error) : error));
    this.child.on('close', (code) => {
      if (this.waiters.length > 0) this.fail(new Error(`git cat-file --batch exited (${code}) with requests pending`));
    });
  }

  /** The blob's bytes, or null when the object does not exist or is over the size limit. */
  async read(sha: string): Promise<Buffer | null> {
    return (await this.object(sha))?.data ?? null;
  }

  /** An object by sha or `rev:path`; null when it does not exist. */
  object(name: string): Promise<GitObject | null> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      // requests of one tick go to git in one write
      if (!this.child.stdin.writableCorked) {
        this.child.stdin.cork();
        process.nextTick(() => this.child.stdin.uncork());
      }
      this.child.stdin.write(`${name}\n`);
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
    let offset = 0;
    while (offset < chunk.length) {
      offset = this.incoming ? this.takeBody(chunk, offset) : this.takeHeader(chunk, offset);
    }
  }

  /** Reads a header line (`<sha> <type> <size>` or `<name> missing`); returns where it ended. */
  private takeHeader(chunk: Buffer, offset: number): number {
    const eol = chunk.indexOf(10, offset);
    if (eol < 0) {
      this.header = Buffer.concat([this.header, chunk.subarray(offset)]);
      return chunk.length;
    }
    const line = this.header.length === 0 ? chunk.toString('latin1', offset, eol) : Buffer.concat([this.header, chunk.subarray(offset, eol)]).toString('latin1');
    this.header = Buffer.alloc(0);
    if (line.endsWith(' missing') || line.endsWith(' ambiguous')) {
      this.waiters.shift()?.resolve(null);
      return eol + 1;
    }
    const [sha = '', , sizeText = '0'] = line.split(' ');
    const size = Number(sizeText);
    this.incoming = { sha, size, data: size <= this.maxBytes ? Buffer.allocUnsafe(size) : null, received: 0 };
    return eol + 1;
  }

  /** Copies body bytes; the body is followed by a newline of its own, hence size + 1. */
  private takeBody(chunk: Buffer, offset: number): number {
    const incoming = this.incoming!;
    const wanted = incoming.size + 1 - incoming.received;
    const take = Math.min(wanted, chunk.length - offset);
    if (incoming.data) {
      const bodyBytes = Math.max(0, Math.min(take, incoming.size - incoming.received));
      chunk.copy(incoming.data, incoming.received, offset, offset + bodyBytes);
    }
    incoming.received += take;
    if (incoming.received === incoming.size + 1) {
      this.incoming = null;
      this.waiters.shift()?.resolve({ sha: incoming.sha, size: incoming.size, data: incoming.data });
    }
    return offset + take;
  }
}

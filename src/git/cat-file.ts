import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { errnoCode } from '../errors/index.js';
import type { ThreadData, ThreadReply } from './cat-file-thread.js';
import { type GitObject, type ObjectRequest, ObjectStream } from './object-stream.js';
import { gitMissingError } from './run.js';

interface Waiter {
  resolve: (object: GitObject | null) => void;
  reject: (error: Error) => void;
}

/** Where requests go and answers come from: git in this thread, or in a worker thread. */
interface Channel {
  send(requests: readonly ObjectRequest[]): void;
  close(): Promise<void>;
}

interface CatFileOptions {
  /** Objects larger than this are answered with `data: null` (default: no limit). */
  maxBytes?: number;
  /**
   * Read git's output in a worker thread: worth its ~30 ms start for a long walk, where the main
   * thread's parsing would otherwise hold git up.
   */
  threaded?: boolean;
}

/**
 * One long-running `git cat-file --batch` for all blob reads of a run: spawning git per file would
 * cost ~2 ms each, which dominates derivation over thousands of commits. Requests of one tick go
 * to git together and are answered in order.
 */
export class CatFileBatch {
  private readonly waiters: Waiter[] = [];
  private readonly channel: Channel;
  private queued: ObjectRequest[] = [];
  private failure: Error | undefined;

  constructor(cwd: string, env: NodeJS.ProcessEnv, options: CatFileOptions = {}) {
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const environment = env;
    this.channel = options.threaded ? this.threadChannel({ cwd, env: environment, maxBytes }) : this.localChannel(cwd, environment, maxBytes);
  }

  /** The blob's bytes, or null when the object does not exist or is over the size limit. */
  async read(sha: string): Promise<Buffer | null> {
    const data = (await this.object(sha))?.data;
    return data ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : null;
  }

  /**
   * An object by sha or `rev:path`; null when it does not exist. `keep` holds it as a base for
   * later requests; with `base`, an object that extends that kept object comes back as its tail.
   */
  object(name: string, options: { keep?: boolean; base?: string } = {}): Promise<GitObject | null> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      // every request of one turn of the event loop goes to git in one write
      if (this.queued.length === 0) {
        setImmediate(() => {
          const requests = this.queued;
          this.queued = [];
          if (!this.failure) this.channel.send(requests);
        });
      }
      this.queued.push({ name, ...options });
    });
  }

  close(): Promise<void> {
    return this.channel.close();
  }

  private answer(object: GitObject | null): void {
    this.waiters.shift()?.resolve(object);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
  }

  private localChannel(cwd: string, env: NodeJS.ProcessEnv, maxBytes: number): Channel {
    const child = spawn('git', ['cat-file', '--batch'], { cwd, env, stdio: 'pipe' });
    const stream = new ObjectStream(maxBytes, (object) => this.answer(object));
    child.stdout.on('data', (chunk: Buffer) => stream.push(chunk));
    child.stderr.resume();
    child.stdin.on('error', (error) => this.fail(error));
    child.on('error', (error) => this.fail(errnoCode(error) === 'ENOENT' ? gitMissingError(error) : error));
    child.on('close', (code) => {
      if (this.waiters.length > 0) this.fail(new Error(`git cat-file --batch exited (${code}) with requests pending`));
    });
    return {
      send: (batch) => {
        stream.expect(batch);
        child.stdin.write(`${batch.map((request) => request.name).join('\n')}\n`);
      },
      close: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('close', () => resolve());
          child.stdin.end();
        }),
    };
  }

  private threadChannel(data: ThreadData): Channel {
    const worker = new Worker(new URL('./cat-file-thread.js', import.meta.url), { workerData: data });
    const closed = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (reply: ThreadReply) => {
      if ('error' in reply) {
        const error = Object.assign(new Error(reply.error.message), { code: reply.error.code });
        this.fail(error.code === 'ENOENT' ? gitMissingError(error) : error);
        return;
      }
      for (const object of reply.objects) this.answer(object);
    });
    worker.on('error', (error) => this.fail(error));
    void closed.then(() => {
      if (this.waiters.length > 0) this.fail(new Error('git cat-file --batch exited with requests pending'));
    });
    return {
      send: (batch) => worker.postMessage(batch),
      close: () => {
        worker.postMessage(null);
        return closed;
      },
    };
  }
}

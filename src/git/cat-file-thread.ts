import { spawn } from 'node:child_process';
import { parentPort, workerData } from 'node:worker_threads';
import { type GitObject, type ObjectRequest, ObjectStream } from './object-stream.js';

/**
 * Runs `git cat-file --batch` from a worker thread: its event loop only drains git's output, so
 * git never waits on a full socket while the main thread parses (which, on a long history, made
 * the two take turns instead of working side by side). Objects go back in order, their memory
 * transferred, not copied.
 */
export interface ThreadData {
  cwd: string;
  env: NodeJS.ProcessEnv;
  maxBytes: number;
}

export type ThreadReply = { objects: (GitObject | null)[] } | { error: { message: string; code?: string } };

const { cwd, env, maxBytes } = workerData as ThreadData;
const port = parentPort!;
const child = spawn('git', ['cat-file', '--batch'], { cwd, env, stdio: 'pipe' });
let batch: (GitObject | null)[] = [];
const stream = new ObjectStream(
  maxBytes,
  (object, request) => batch.push(handOut(object, request)),
  // its own memory, not zeroed (every byte is written), so it can be transferred
  (size) => Buffer.allocUnsafeSlow(size),
);

/**
 * What goes back must own its memory (it is transferred, which detaches it here): a kept object's
 * bytes are the base the next version is compared with, so they stay and a copy goes.
 */
function handOut(object: GitObject | null, request: ObjectRequest): GitObject | null {
  if (!object?.data || !request.keep) return object;
  return { ...object, data: new Uint8Array(object.data) };
}

const fail = (error: Error & { code?: string }): void => port.postMessage({ error: { message: error.message, code: error.code } } satisfies ThreadReply);
child.on('error', fail);
child.stdin.on('error', fail);
child.stderr.resume();
child.stdout.on('data', (chunk: Buffer) => {
  stream.push(chunk);
  if (batch.length === 0) return;
  const transfer = batch.flatMap((object) => (object?.data ? [object.data.buffer as ArrayBuffer] : []));
  port.postMessage({ objects: batch } satisfies ThreadReply, transfer);
  batch = [];
});
child.on('close', (code) => {
  if (code !== 0) fail(new Error(`git cat-file --batch exited (${code})`));
  port.close();
});
port.on('message', (batchOfRequests: ObjectRequest[] | null) => {
  if (batchOfRequests === null) {
    child.stdin.end();
    return;
  }
  stream.expect(batchOfRequests);
  child.stdin.write(`${batchOfRequests.map((request) => request.name).join('\n')}\n`);
});

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGunzip } from 'node:zlib';

/** A request that ends in an HTTP error: `code` is stable (clients and tests match on it), `message` is for people. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** The connection ends after this answer: the client is still sending a body nobody will read. */
    readonly close = false,
  ) {
    super(message);
  }
}

/**
 * Ends a connection after its answer without losing the answer. Closing while the client still
 * sends makes the kernel reset the connection, and a reset discards the answer before the client
 * reads it; so the server says it is done (FIN), drops what still arrives, and cuts the connection
 * only after `lingerMs`.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse, lingerMs = 2_000, lingerBytes = 1024 * 1024): void {
  let dropped = 0;
  // a client that keeps streaming is not read for long: every chunk dropped is still allocated first
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > lingerBytes) req.pause();
  });
  req.resume();
  res.once('finish', () => {
    const socket = req.socket;
    socket.end();
    setTimeout(() => socket.destroy(), lingerMs).unref();
  });
}

/** Sent on every response: nothing the server answers may be framed, sniffed into another type, cached or leak a Referer. */
export const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
});

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, JSON.stringify(body), headers);
}

/** `text` is JSON already (stored envelopes are served as stored, never parsed and re-serialized). */
export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...BASE_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Body bytes held by all requests being read. A request that would pass the total is refused
 * (503, retry later) instead of growing the heap: ten clients sending 30 MB each would otherwise
 * hold 300 MB before any of them is parsed.
 */
export class BodyBudget {
  private used = 0;

  constructor(private readonly max: number) {}

  take(bytes: number): boolean {
    if (this.used + bytes > this.max) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

const tooLarge = (cap: number): HttpError => new HttpError(413, 'body_too_large', `request body is larger than ${cap} bytes`, {}, true);
const busy = (): HttpError =>
  new HttpError(503, 'server_busy', 'the server is reading too many request bodies at once; retry shortly', { 'retry-after': '1' }, true);

/**
 * Reads a body of at most `cap` bytes (and at most `cap` after gunzip), counting every byte against
 * `budget` while it is held. The cap is checked against Content-Length before anything is read,
 * and again chunk by chunk, so a lying or chunked client is stopped at the cap too.
 */
export async function readBody(req: IncomingMessage, cap: number, budget: BodyBudget): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > cap) throw tooLarge(cap);
  const held = { bytes: 0 };
  try {
    const wire = await collect(req, cap, budget, held);
    if ((req.headers['content-encoding'] ?? '').toLowerCase() !== 'gzip') return wire;
    return await gunzipCapped(wire, cap, budget, held);
  } finally {
    budget.give(held.bytes);
  }
}

/**
 * Every listener is removed once the body is complete or refused: a listener left on a lingering
 * connection would keep the chunks read so far alive with it (8 MiB for each refused batch).
 */
function collect(
  stream: NodeJS.ReadableStream,
  cap: number,
  budget: BodyBudget,
  held: { bytes: number },
  onError?: (error: Error) => HttpError,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const detach = (): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onFailure);
      stream.removeListener('close', onClose);
    };
    const stop = (error: Error): void => {
      detach();
      chunks = [];
      stream.pause();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > cap) {
        stop(tooLarge(cap));
        return;
      }
      if (!budget.take(chunk.length)) {
        stop(busy());
        return;
      }
      held.bytes += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      detach();
      resolve(Buffer.concat(chunks, size));
    };
    const onFailure = (error: Error): void =>
      stop(onError ? onError(error) : new HttpError(400, 'body_unreadable', `request body could not be read: ${error.message}`));
    // a client that goes away mid-body ends in 'close' without 'end' or 'error'; never wait for it forever
    const onClose = (): void => stop(new HttpError(400, 'body_unreadable', 'the connection closed before the body ended'));
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onFailure);
    stream.once('close', onClose);
  });
}

async function gunzipCapped(wire: Buffer, cap: number, budget: BodyBudget, held: { bytes: number }): Promise<Buffer> {
  const gunzip = createGunzip();
  // an error after collect let go of the stream must not go unhandled
  gunzip.on('error', () => undefined);
  const result = collect(gunzip, cap, budget, held, () => new HttpError(400, 'body_not_gzip', 'body is not valid gzip'));
  gunzip.end(wire);
  try {
    return await result;
  } finally {
    gunzip.destroy();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** JSON from a body read by readBody; invalid UTF-8 is refused rather than silently replaced. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new HttpError(400, 'body_not_utf8', 'body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'body_not_json', 'body is not valid JSON');
  }
}

/** The request's URL, or null for a target no URL parser takes (`http://[`): never an exception thrown out of a handler. */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}

export function bearer(req: IncomingMessage): string | null {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7).trim() || null : null;
}

import { LRUCache } from 'lru-cache';

/** An object read by `cat-file --batch`; `data` is null when it was larger than the reader's limit. */
export interface GitObject {
  sha: string;
  size: number;
  data: Uint8Array | null;
  /** Set when the object extends the request's `base`: that many leading bytes are left out of `data`. */
  prefix?: number;
}

/** How to hand an object out: keep it as a base for later requests; cut `base`'s bytes off its front. */
export interface ObjectRequest {
  name: string;
  keep?: boolean;
  base?: string;
}

/**
 * Objects kept to compare the next version of a file with: a status log that only grew is handed
 * out as its new tail, so whoever parses it never touches (or even receives) the bytes it had.
 */
export class TailCache {
  private readonly kept = new LRUCache<string, Uint8Array>({ maxSize: 128 * 1024 * 1024, sizeCalculation: (data) => Math.max(1, data.length) });

  /** The object as the request wants it; `data` may be a view into a kept buffer. */
  apply(object: GitObject | null, request: ObjectRequest): GitObject | null {
    if (!object?.data) return object;
    const base = request.base === undefined ? undefined : this.kept.get(request.base);
    // a version is usually the base of one next version only; a second child reads it whole
    if (base) this.kept.delete(request.base!);
    if (request.keep) this.kept.set(object.sha, object.data);
    if (!base || !extends_(base, object.data)) return object;
    return { ...object, data: object.data.subarray(base.length), prefix: base.length };
  }
}

/** `data` is `base` with lines appended (so `base` ended with a newline, or was empty). */
function extends_(base: Uint8Array, data: Uint8Array): boolean {
  if (data.length < base.length) return false;
  if (base.length > 0 && base[base.length - 1] !== 10) return false;
  return Buffer.from(data.buffer, data.byteOffset, base.length).equals(base);
}

/** The object being received: its bytes are copied once into `data` as chunks arrive. */
interface Incoming {
  sha: string;
  size: number;
  data: Uint8Array | null;
  received: number;
}

/**
 * Pure parser of `git cat-file --batch` output: headers (`<sha> <type> <size>` or
 * `<name> missing`), then each body copied once into a buffer of its announced size, so reading
 * is linear in the object's size however many chunks it arrives in. An object over `maxBytes` is
 * passed over without being kept.
 */
export class ObjectStream {
  private header: Buffer = Buffer.alloc(0);
  private incoming: Incoming | null = null;

  constructor(
    private readonly maxBytes: number,
    /** Called with each object (null: missing), in the order git answered. */
    private readonly emit: (object: GitObject | null) => void,
    /** Where a body goes: a Buffer, or memory that can be handed to another thread. */
    private readonly allocate: (size: number) => Uint8Array = (size) => Buffer.allocUnsafe(size),
  ) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      offset = this.incoming ? this.takeBody(chunk, offset) : this.takeHeader(chunk, offset);
    }
  }

  private takeHeader(chunk: Buffer, offset: number): number {
    const eol = chunk.indexOf(10, offset);
    if (eol < 0) {
      this.header = Buffer.concat([this.header, chunk.subarray(offset)]);
      return chunk.length;
    }
    const line =
      this.header.length === 0 ? chunk.toString('latin1', offset, eol) : Buffer.concat([this.header, chunk.subarray(offset, eol)]).toString('latin1');
    this.header = Buffer.alloc(0);
    if (line.endsWith(' missing') || line.endsWith(' ambiguous')) {
      this.emit(null);
      return eol + 1;
    }
    const [sha = '', , sizeText = '0'] = line.split(' ');
    const size = Number(sizeText);
    this.incoming = { sha, size, data: size <= this.maxBytes ? this.allocate(size) : null, received: 0 };
    return eol + 1;
  }

  /** Copies body bytes; the body is followed by a newline of its own, hence size + 1. */
  private takeBody(chunk: Buffer, offset: number): number {
    const incoming = this.incoming!;
    const take = Math.min(incoming.size + 1 - incoming.received, chunk.length - offset);
    if (incoming.data) {
      const bodyBytes = Math.max(0, Math.min(take, incoming.size - incoming.received));
      incoming.data.set(chunk.subarray(offset, offset + bodyBytes), incoming.received);
    }
    incoming.received += take;
    if (incoming.received === incoming.size + 1) {
      this.incoming = null;
      this.emit({ sha: incoming.sha, size: incoming.size, data: incoming.data });
    }
    return offset + take;
  }
}

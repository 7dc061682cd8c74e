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

/** A kept object as the pieces it arrived in: a status log's version is its base's pieces and its tail. */
type Pieces = readonly Uint8Array[];

/** Past this many pieces a kept object is joined into one, so comparing with it stays a few calls. */
const MAX_PIECES = 32;

function lengthOf(pieces: Pieces): number {
  let length = 0;
  for (const piece of pieces) length += piece.length;
  return length;
}

/**
 * Objects kept to compare the next version of a file with: a status log that only grew is handed
 * out as its new tail, so whoever parses it never touches (or even receives) the bytes it had.
 */
class TailCache {
  private readonly kept = new LRUCache<string, Pieces>({ maxSize: 128 * 1024 * 1024, sizeCalculation: (pieces) => Math.max(1, lengthOf(pieces)) });

  /** The base a request compares with; a version is usually the base of one next version only, so it leaves the cache. */
  take(request: ObjectRequest): Pieces | undefined {
    if (request.base === undefined) return undefined;
    const base = this.kept.get(request.base);
    if (base) this.kept.delete(request.base);
    return base;
  }

  keep(sha: string, pieces: Pieces): void {
    this.kept.set(sha, pieces.length > MAX_PIECES ? [Buffer.concat(pieces)] : pieces);
  }
}

/**
 * The object being received. While it matches its base, its bytes are only compared (the base
 * is not copied again); the bytes past the base are copied once into `data`. A mismatch turns it
 * into a whole copy: the base's matching bytes, then the rest as it arrives.
 */
interface Incoming {
  sha: string;
  size: number;
  request: ObjectRequest;
  /** Null when the object is over the size limit: its bytes are passed over. */
  data: Uint8Array | null;
  received: number;
  /** The base while the object still matches it; cleared on a mismatch. */
  base: Pieces | null;
  baseLength: number;
  /** Where the comparison stands in the base: a piece and an offset in it. */
  piece: number;
  pieceOffset: number;
}

/**
 * Pure parser of `git cat-file --batch` output, given the requests in the order they were sent:
 * headers (`<sha> <type> <size>` or `<name> missing`), then each body copied once into a buffer of
 * its announced size, so reading is linear in the object's size however many chunks it arrives
 * in. An object over `maxBytes` is passed over without being kept.
 */
export class ObjectStream {
  private header: Buffer = Buffer.alloc(0);
  private incoming: Incoming | null = null;
  private readonly requests: ObjectRequest[] = [];
  private readonly tails = new TailCache();

  constructor(
    private readonly maxBytes: number,
    /** Called with each object (null: missing), in the order git answered, and the request it answers. */
    private readonly emit: (object: GitObject | null, request: ObjectRequest) => void,
    /** Where a body goes: a Buffer, or memory that can be handed to another thread. */
    private readonly allocate: (size: number) => Uint8Array = (size) => Buffer.allocUnsafe(size),
  ) {}

  /** Requests just sent to git: their answers arrive in this order. */
  expect(requests: readonly ObjectRequest[]): void {
    this.requests.push(...requests);
  }

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
    const request = this.requests.shift() ?? { name: '' };
    if (line.endsWith(' missing') || line.endsWith(' ambiguous')) {
      this.emit(null, request);
      return eol + 1;
    }
    const [sha = '', , sizeText = '0'] = line.split(' ');
    this.incoming = this.start(sha, Number(sizeText), request);
    return eol + 1;
  }

  private start(sha: string, size: number, request: ObjectRequest): Incoming {
    const fits = size <= this.maxBytes;
    const base = fits ? this.tails.take(request) : undefined;
    const baseLength = base ? lengthOf(base) : 0;
    const comparable = base !== undefined && size >= baseLength && (baseLength === 0 || endsWithNewline(base));
    const incoming: Incoming = { sha, size, request, data: null, received: 0, base: comparable ? base : null, baseLength, piece: 0, pieceOffset: 0 };
    if (!fits) return incoming;
    incoming.data = this.allocate(comparable ? size - baseLength : size);
    return incoming;
  }

  /** Takes body bytes; the body is followed by a newline of its own, hence size + 1. */
  private takeBody(chunk: Buffer, offset: number): number {
    const incoming = this.incoming!;
    let at = offset;
    if (incoming.base && incoming.received < incoming.baseLength) {
      at = this.compare(incoming, chunk, at);
      if (at === chunk.length) return at;
    }
    const take = Math.min(incoming.size + 1 - incoming.received, chunk.length - at);
    if (incoming.data) {
      const skipped = incoming.base ? incoming.baseLength : 0;
      const bodyBytes = Math.max(0, Math.min(take, incoming.size - incoming.received));
      incoming.data.set(chunk.subarray(at, at + bodyBytes), incoming.received - skipped);
    }
    incoming.received += take;
    if (incoming.received === incoming.size + 1) {
      this.incoming = null;
      this.finish(incoming);
    }
    return at + take;
  }

  /** Compares what arrives with the base; returns where copying starts (all of it compared, or a mismatch). */
  private compare(incoming: Incoming, chunk: Buffer, offset: number): number {
    const base = incoming.base!;
    let at = offset;
    while (at < chunk.length && incoming.received < incoming.baseLength) {
      const piece = base[incoming.piece]!;
      const length = Math.min(piece.length - incoming.pieceOffset, chunk.length - at);
      if (chunk.compare(piece, incoming.pieceOffset, incoming.pieceOffset + length, at, at + length) !== 0) {
        this.diverge(incoming);
        return at;
      }
      at += length;
      incoming.received += length;
      incoming.pieceOffset += length;
      if (incoming.pieceOffset === piece.length) {
        incoming.piece++;
        incoming.pieceOffset = 0;
      }
    }
    return at;
  }

  /** The object does not extend its base after all: it is copied whole, starting with the bytes that matched. */
  private diverge(incoming: Incoming): void {
    const data = this.allocate(incoming.size);
    let at = 0;
    for (const piece of incoming.base!) {
      if (at >= incoming.received) break;
      const length = Math.min(piece.length, incoming.received - at);
      data.set(piece.subarray(0, length), at);
      at += length;
    }
    incoming.data = data;
    incoming.base = null;
  }

  private finish(incoming: Incoming): void {
    const { sha, size, data, base, baseLength, request } = incoming;
    if (request.keep && data) this.tails.keep(sha, base ? [...base, data] : [data]);
    this.emit(base ? { sha, size, data, prefix: baseLength } : { sha, size, data }, request);
  }
}

function endsWithNewline(pieces: Pieces): boolean {
  const last = pieces.findLast((piece) => piece.length > 0);
  return last !== undefined && last[last.length - 1] === 10;
}

import { LRUCache } from 'lru-cache';
import { ErrorCode, KittyError } from '../errors/index.js';
import { CatFileBatch } from '../git/cat-file.js';
import { parseWorkPackage, type WorkPackageState } from '../workpackage/frontmatter.js';
import { frontmatterBytes } from '../workpackage/frontmatter-bytes.js';
import { addedLines, lineIdentity, parseStatusLines, type StatusLogParse, splitLines } from '../workpackage/status-log.js';

/** A WP file is a few KB; past this it is not one (and parsing it would stall the walk). */
const MAX_WP_BYTES = 8 * 1024 * 1024;
/** Status logs grow for years; past this size one is skipped with a warning. */
const MAX_LOG_BYTES = 512 * 1024 * 1024;

interface ReaderOptions {
  root: string;
  env: NodeJS.ProcessEnv;
  strict?: boolean;
  /** Read git's output in a worker thread (long walks). */
  threaded?: boolean;
  /** Called once per distinct line. */
  warn: (line: string) => void;
}

/** What a commit added to a status log, and which WPs the log tracks afterwards. */
interface LogAddition {
  parse: StatusLogParse;
  tracked: ReadonlySet<string>;
  /** Lines that replaced a removed line saying the same move (a re-keying rewrite): left out. */
  restated: number;
}

interface LogFacts {
  lines: number;
  tracked: ReadonlySet<string>;
}

/**
 * Reads and parses the blobs of a walk through `cat-file --batch`, with bounded caches: the blob a
 * commit leaves is the one the next commit of that file starts from. A status log that only grew
 * arrives as its new tail (the reader compared the old bytes), and only the added lines are decoded
 * and parsed, so a log of thousands of lines costs per commit what the commit added.
 */
export class BlobReader {
  /** Reads a commit needs up front (its blobs), many commits ahead. */
  private readonly bulk: CatFileBatch;
  /**
   * Reads a commit can only ask for once it has read others (trees, a copy's source, an old log):
   * asked of the bulk reader they would wait behind every commit read ahead of it, so a long walk
   * gets a second reader for them.
   */
  private readonly quick: () => CatFileBatch;
  private readonly closeQuick: () => Promise<void>;
  /** Reads in flight, so that two commits asking for one blob share the read. */
  private readonly reading = new Map<string, Promise<Buffer | null>>();
  private readonly loaded = new LRUCache<string, Buffer>({ maxSize: 64 * 1024 * 1024, sizeCalculation: (buffer) => Math.max(1, buffer.length) });
  private readonly states = new LRUCache<string, WorkPackageState>({ max: 8192 });
  private readonly logFacts = new LRUCache<string, LogFacts>({ max: 8192 });
  /** Facts of log versions a commit's `logAddition` is reading, until it has them. */
  private readonly factsReading = new Map<string, Promise<LogFacts | null>>();
  private readonly warned = new Set<string>();

  constructor(private readonly options: ReaderOptions) {
    this.bulk = new CatFileBatch(options.root, options.env, { maxBytes: MAX_LOG_BYTES, threaded: options.threaded });
    let quick: CatFileBatch | null = null;
    this.quick = options.threaded ? () => (quick ??= new CatFileBatch(options.root, options.env, { maxBytes: MAX_LOG_BYTES })) : () => this.bulk;
    this.closeQuick = () => (quick ? quick.close() : Promise.resolve());
  }

  async close(): Promise<void> {
    await Promise.all([this.bulk.close(), this.closeQuick()]);
  }

  warnOnce(line: string): void {
    if (this.warned.has(line)) return;
    this.warned.add(line);
    this.options.warn(line);
  }

  /** A problem with one file: an error under --strict, else a warning and the file is skipped. */
  problem(error: KittyError): void {
    if (this.options.strict) throw error;
    this.warnOnce(`kitty: warning: ${error.code}: ${error.message} (skipped)`);
  }

  /**
   * Starts reading blobs a commit will need, so that git answers them all in one round trip
   * instead of one per step of the commit's reading. Blobs already parsed are not read again.
   */
  prefetch(shas: readonly (string | null | undefined)[], label: string): void {
    for (const sha of shas) {
      if (sha && !this.states.has(sha)) void this.buffer(sha, label, MAX_WP_BYTES).catch(() => undefined);
    }
  }

  /**
   * The WP state a blob holds (null: absent, unreadable or malformed, reported). `dependent`: a
   * read the commit could not ask for up front.
   */
  async wpState(sha: string | null | undefined, label: string, dependent = false): Promise<WorkPackageState | null> {
    if (!sha) return null;
    const cached = this.states.get(sha);
    if (cached) return cached;
    const buffer = await this.buffer(sha, label, MAX_WP_BYTES, dependent ? this.quick() : this.bulk);
    if (!buffer) return null;
    try {
      const state = parseWorkPackage(buffer.toString('utf8', 0, frontmatterBytes(buffer)), label);
      this.states.set(sha, state);
      // parsed, the bytes are not needed again: the state is what later commits ask for
      this.loaded.delete(sha);
      return state;
    } catch (error) {
      if (!(error instanceof KittyError)) throw error;
      this.problem(error);
      return null;
    }
  }

  /**
   * The lines a commit added to a status log (`before`: the first parent's blob; `others`: other
   * parents'). Logs are kept by the reader, so a version that only grew arrives as its new tail.
   */
  logAddition(after: string, before: string | null, others: readonly (string | null)[], label: string): Promise<LogAddition | null> {
    const addition = this.readAddition(after, before, others, label);
    // a later commit asking which WPs this version tracks waits for it instead of reading it whole
    const facts = addition.then(
      (read) => (read ? (this.logFacts.get(after) ?? null) : null),
      () => null,
    );
    this.factsReading.set(after, facts);
    void facts.then(() => this.factsReading.delete(after));
    return addition;
  }

  private async readAddition(after: string, before: string | null, others: readonly (string | null)[], label: string): Promise<LogAddition | null> {
    const object = await this.logObject(after, label, { base: before ?? undefined });
    if (!object) return null;
    const beforeFacts = object.prefix !== undefined && before ? (this.logFacts.get(before) ?? (await this.logFactsOf(before, label))) : null;
    let parse: StatusLogParse;
    let restated = 0;
    if (beforeFacts) {
      parse = parseStatusLines(splitLines(object.data.toString('utf8')), beforeFacts.lines + 1);
      const tracked = new Set(beforeFacts.tracked);
      for (const line of parse.transitions) tracked.add(line.wpId);
      this.logFacts.set(after, { lines: beforeFacts.lines + countLines(object.data, 0), tracked });
    } else {
      const full = object.prefix === undefined ? object.data : null;
      const beforeText = before ? ((await this.logObject(before, label))?.data.toString('utf8') ?? null) : null;
      const afterText = full ? full.toString('utf8') : null;
      if (afterText === null) return null;
      const added = addedLines(beforeText, afterText);
      parse = parseStatusLines(added.lines, added.firstLineNumber);
      const said = new Set(parseStatusLines(added.removed).transitions.map(lineIdentity));
      const kept = parse.transitions.filter((line) => !said.has(lineIdentity(line)));
      restated = parse.transitions.length - kept.length;
      parse = { ...parse, transitions: kept };
      this.factsOf(after, full!, afterText);
    }
    if (others.length > 0) {
      const inParents = new Set<string>();
      for (const sha of others) {
        const text = sha ? (await this.logObject(sha, label))?.data.toString('utf8') : null;
        if (text) for (const line of splitLines(text)) inParents.add(line);
      }
      parse = { ...parse, transitions: parse.transitions.filter((line) => !inParents.has(line.raw)) };
    }
    return { parse, tracked: this.logFacts.get(after)?.tracked ?? new Set(), restated };
  }

  /**
   * A status log blob. The version a commit leaves (`next`) is read with the commit and kept as
   * the base of the version after it, arriving as its tail when it extends `base`; older versions
   * are read only when needed, by the other reader.
   */
  private async logObject(sha: string, label: string, next?: { base?: string }): Promise<{ data: Buffer; prefix?: number } | null> {
    const object = await (next ? this.bulk.object(sha, { keep: true, base: next.base }) : this.quick().object(sha));
    if (!object) {
      this.problem(missing(label, sha));
      return null;
    }
    if (!object.data) {
      this.problem(tooLarge(label, object.size, MAX_LOG_BYTES));
      return null;
    }
    return { data: asBuffer(object.data), prefix: object.prefix };
  }

  private async logFactsOf(sha: string, label: string): Promise<LogFacts | null> {
    const object = await this.logObject(sha, label);
    return object ? this.factsOf(sha, object.data) : null;
  }

  /** The entries of a tree (`rev:path`); empty when there is no such tree. */
  async tree(name: string): Promise<TreeEntry[]> {
    const object = await this.quick().object(name);
    return object?.data ? parseTree(asBuffer(object.data), object.sha.length / 2) : [];
  }

  /** The WPs whose moves a status log records, by blob sha (null: no such blob). */
  async trackedBy(name: string, label: string): Promise<ReadonlySet<string> | null> {
    const known = this.logFacts.get(name) ?? (await this.factsReading.get(name));
    if (known) return known.tracked;
    const object = await this.quick().object(name);
    if (!object) return null;
    if (!object.data) {
      this.problem(tooLarge(label, object.size, MAX_LOG_BYTES));
      return null;
    }
    return this.factsOf(object.sha, asBuffer(object.data)).tracked;
  }

  /** `text`: the bytes decoded, when the caller has decoded them already. */
  private factsOf(sha: string, bytes: Buffer, text?: string): LogFacts {
    const known = this.logFacts.get(sha);
    if (known) return known;
    // only transition lines name a tracked WP: other lines (a pasted log in an annotation) are not parsed
    const candidates = splitLines(text ?? bytes.toString('utf8')).filter((line) => line.includes('"to_lane"'));
    const facts = { lines: countLines(bytes, 0), tracked: new Set(parseStatusLines(candidates).transitions.map((line) => line.wpId)) };
    this.logFacts.set(sha, facts);
    return facts;
  }

  private buffer(sha: string, label: string, limit: number, reader: CatFileBatch = this.bulk): Promise<Buffer | null> {
    const cached = this.loaded.get(sha);
    if (cached) return Promise.resolve(cached);
    let pending = this.reading.get(sha);
    if (!pending) {
      pending = reader.object(sha).then((object) => {
        this.reading.delete(sha);
        if (!object) {
          this.problem(missing(label, sha));
          return null;
        }
        if (!object.data || object.size > limit) {
          this.problem(tooLarge(label, object.size, limit));
          return null;
        }
        const data = asBuffer(object.data);
        this.loaded.set(sha, data);
        return data;
      });
      this.reading.set(sha, pending);
    }
    return pending;
  }
}

interface TreeEntry {
  name: string;
  sha: string;
  isTree: boolean;
}

/** Pure: a raw tree object (`<mode> <name>\0<binary sha>` repeated); `hashBytes` is 20, or 32 for SHA-256. */
export function parseTree(data: Buffer, hashBytes: number): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(32, offset);
    const nul = data.indexOf(0, space);
    if (space < 0 || nul < 0) break;
    const mode = data.toString('latin1', offset, space);
    entries.push({ name: data.toString('utf8', space + 1, nul), sha: data.toString('hex', nul + 1, nul + 1 + hashBytes), isTree: mode === '40000' });
    offset = nul + 1 + hashBytes;
  }
  return entries;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function missing(label: string, sha: string): KittyError {
  return new KittyError(ErrorCode.WP_UNREADABLE, `cannot read ${label}: git object ${sha} is missing`, {
    hint: 'fetch the missing history (`git fetch --unshallow`, or `git fsck` to find damage), then rerun',
  });
}

function tooLarge(label: string, size: number, limit: number): KittyError {
  return new KittyError(ErrorCode.WP_TOO_LARGE, `${label} is ${size} bytes, over the ${Math.round(limit / 1024 / 1024)} MiB limit`, {
    hint: `shrink or remove ${label.replace(/@[^@]*$/, '')} (a work-package file or status log is normally a few KB)`,
  });
}

function countLines(bytes: Buffer, from: number): number {
  let count = 0;
  for (let at = bytes.indexOf(10, from); at >= 0; at = bytes.indexOf(10, at + 1)) count++;
  if (bytes.length > from && bytes[bytes.length - 1] !== 10) count++;
  return count;
}

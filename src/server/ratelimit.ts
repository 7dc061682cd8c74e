interface Entry {
  failures: number;
  inFlight: number;
  /** No attempt may start before this time (ms). */
  until: number;
  lastFailure: number;
}

interface BackoffOptions {
  free: number;
  baseMs: number;
  maxMs: number;
  forgetMs: number;
  /** Keys remembered at most; the oldest go first, so random usernames cannot grow the heap. */
  maxKeys: number;
}

/**
 * Failed attempts per key (a username, an address) with exponential backoff after `free` of them.
 * Attempts still running count as failures until they end: otherwise forty guesses sent at once
 * would all be checked before the first one failed. A refused attempt costs nothing and does not
 * extend the wait, so an attacker who keeps knocking is answered cheaply, not by more hashing.
 */
export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: BackoffOptions) {}

  /** 0 when an attempt may start now (and it is counted as running), else ms to wait. */
  begin(key: string, now: number): number {
    const entry = this.fresh(key, now);
    const wait = Math.max(0, entry.until - now);
    const pending = entry.failures + entry.inFlight;
    if (pending < this.options.free && wait === 0) {
      entry.inFlight++;
      return 0;
    }
    if (pending >= this.options.free && entry.inFlight === 0 && wait === 0) {
      entry.inFlight++;
      return 0;
    }
    return Math.max(wait, this.delay(Math.max(pending, entry.failures + 1)));
  }

  end(key: string, now: number, succeeded: boolean, reset: boolean): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.inFlight = Math.max(0, entry.inFlight - 1);
    if (succeeded) {
      if (reset) this.entries.delete(key);
      return;
    }
    entry.failures++;
    entry.lastFailure = now;
    if (entry.failures >= this.options.free) entry.until = now + this.delay(entry.failures);
    this.touch(key, entry);
  }

  private delay(failures: number): number {
    const over = Math.max(0, failures - this.options.free);
    return Math.min(this.options.baseMs * 2 ** Math.min(over, 30), this.options.maxMs);
  }

  private fresh(key: string, now: number): Entry {
    let entry = this.entries.get(key);
    if (entry && entry.inFlight === 0 && now - entry.lastFailure > this.options.forgetMs && now >= entry.until) {
      this.entries.delete(key);
      entry = undefined;
    }
    if (!entry) entry = { failures: 0, inFlight: 0, until: 0, lastFailure: now };
    this.touch(key, entry);
    return entry;
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.options.maxKeys) {
      const [oldest, value] = this.entries.entries().next().value as [string, Entry];
      // an entry with an attempt running must survive until that attempt ends
      if (value.inFlight > 0) {
        this.entries.delete(oldest);
        this.entries.set(oldest, value);
        break;
      }
      this.entries.delete(oldest);
    }
  }
}

/** At most `limit` tasks run at once, at most `queue` wait; past that `run` refuses at once. */
export class Semaphore {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly queue: number,
  ) {}

  /** null when the queue is full (the caller answers "busy"). */
  async run<T>(task: () => Promise<T>): Promise<T | null> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.queue) return null;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

import type { Accepted, EventResult } from './types.js';

type Waiter = { start: number; count: number; resolve: (results: EventResult[]) => void; reject: (error: unknown) => void };
type Batch = { events: Accepted[]; waiters: Waiter[] };

/** Events per statement: past it, the waiting frames go in the next one. */
const MAX_EVENTS = 2_000;

/**
 * Group commit per team: while one ingest of a team is in flight, the frames of that team that
 * arrive meanwhile (from any socket of this instance) wait, then go together in one statement.
 * A team's ingests take turns in the database anyway (pg-sql.ts); fewer, larger statements make
 * each turn carry more events.
 */
export class TeamBatches {
  private readonly waiting = new Map<string, Batch[]>();
  private readonly busy = new Set<string>();

  constructor(private readonly run: (team: string, events: readonly Accepted[]) => Promise<EventResult[]>) {}

  submit(team: string, events: readonly Accepted[]): Promise<EventResult[]> {
    return new Promise((resolve, reject) => {
      const batches = this.waiting.get(team) ?? [];
      this.waiting.set(team, batches);
      let batch = batches.at(-1);
      if (!batch || batch.events.length + events.length > MAX_EVENTS) {
        batch = { events: [], waiters: [] };
        batches.push(batch);
      }
      batch.waiters.push({ start: batch.events.length, count: events.length, resolve, reject });
      batch.events.push(...events);
      if (!this.busy.has(team)) void this.drain(team);
    });
  }

  private async drain(team: string): Promise<void> {
    this.busy.add(team);
    for (let batch = this.next(team); batch; batch = this.next(team)) {
      try {
        const results = await this.run(team, batch.events);
        for (const waiter of batch.waiters) waiter.resolve(results.slice(waiter.start, waiter.start + waiter.count));
      } catch (error) {
        for (const waiter of batch.waiters) waiter.reject(error);
      }
    }
    this.busy.delete(team);
  }

  private next(team: string): Batch | undefined {
    const batches = this.waiting.get(team);
    const batch = batches?.shift();
    if (batches?.length === 0) this.waiting.delete(team);
    return batch;
  }
}

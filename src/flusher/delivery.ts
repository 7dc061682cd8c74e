import { setTimeout as sleep } from 'node:timers/promises';
import { isAbsurdLamport, serverClockProblem } from '../clock/lamport.js';
import { RESET_CLOCK_HINT, restamp, withQueueDb } from '../clock/repair.js';
import { LOCAL_TEAM_SLUG } from '../constants.js';
import type { Envelope } from '../events/envelope.js';
import type { EventQueue, QueuedEvent } from '../queue/queue.js';
import type { Env } from '../state/paths.js';
import { MAX_BATCH_EVENTS, oversizeReason } from '../transport/limits.js';
import type { EventResult } from '../transport/types.js';
import { keepTooLarge } from './too-large.js';

export interface DrainOptions {
  env: Env;
  queue: EventQueue;
  nodeId: string;
  /** Epoch ms by which the drain stops, drained or not. */
  deadline: number;
  /** Once drained, how long to wait for events a hook may still be queueing. */
  idleMs: number;
  /** Consecutive failed attempts (connect or request) after which the drain gives up. */
  maxFailures: number;
  log: (line: string) => void;
  onProgress?: (summary: DrainSummary) => void;
  /** Force batch HTTP (the WebSocket is also left after 10 failed connects in a row). */
  httpOnly?: boolean;
  /**
   * Asked to stop (a background flusher `kitty sync flush` takes over): no new sends; the acks of
   * what is in flight are awaited briefly and written, so the next flusher does not send it again.
   */
  stop?: AbortSignal;
}

type StopReason = 'drained' | 'timeout' | 'unreachable' | 'session';

export interface DrainSummary {
  delivered: number;
  duplicate: number;
  rejected: number;
  /** Events a response left out: they stay pending for a later run. */
  unanswered: number;
  lastError: string | null;
  stoppedBecause: StopReason;
  transport: 'websocket' | 'http' | null;
  /** Rejected for their Lamport value: `kitty sync reset-clock` restamps and re-queues them. */
  clockRejected: number;
  /** Over the size limit of one event: kept dead here, never sent. */
  tooLarge: number;
  /** What a user should know though nothing failed (a clock ignored or repaired), once each. */
  warnings: string[];
  /** The wait a busy server asked for (Retry-After) with the last failure; 0: none. */
  retryAfterMs: number;
  /** Projects with events answered success or duplicate: the team record notes where they went. */
  deliveredProjects: string[];
}

/** A server's answer to one send: a result per event answered, and the server clock it came with (null: none). */
export interface Answer {
  results: readonly EventResult[];
  serverClock: number | null;
}

/** The events of one send: stamped for the wire (also as their JSON), with the queue position to read on from. */
export interface Prepared {
  ready: { seq: number; envelope: Envelope; json: string; bytes: number }[];
  lastSeq: number;
}

/** A server's refusal of an event's Lamport value: the reference server's code, or a reason naming the field. */
function isClockRejection(result: EventResult): boolean {
  return result.status === 'rejected' && (result.code === 'lamport_too_far_ahead' || /lamport/i.test(result.error ?? ''));
}

/** A drain that has done nothing yet. */
export function emptySummary(): DrainSummary {
  return {
    delivered: 0,
    duplicate: 0,
    rejected: 0,
    unanswered: 0,
    lastError: null,
    stoppedBecause: 'drained',
    transport: null,
    clockRejected: 0,
    tooLarge: 0,
    warnings: [],
    retryAfterMs: 0,
    deliveredProjects: [],
  };
}

/**
 * What every round of one drain shares, whichever transport it uses: the summary, the queue's
 * side of results, the clock, and the deadline every request and connection ends at (even with a
 * server that hangs).
 */
export class Delivery {
  readonly summary = emptySummary();
  readonly timedOut: AbortSignal;
  /** The stop asked of this drain; never aborted when nobody can ask. */
  readonly stopped: AbortSignal;
  /** The server's per-batch limit once it named one: every later batch of this drain fits it. */
  readonly batchLimits = { maxEvents: MAX_BATCH_EVENTS };
  /** Failed attempts in a row (connect or request); an answered request starts the count again. */
  failures = 0;
  /** Failed WebSocket connects in a row: past a limit this drain switches to batch HTTP. */
  wsFailures = 0;
  private readonly warned = new Set<string>();
  /** The project of each event sent, for the projects its success or duplicate delivered to. */
  private readonly projectOf = new Map<string, string>();
  private readonly projects = new Set<string>();
  private restamped = false;

  constructor(readonly options: DrainOptions) {
    this.timedOut = AbortSignal.timeout(Math.max(options.deadline - Date.now(), 0));
    this.stopped = options.stop ?? new AbortController().signal;
  }

  get queue(): EventQueue {
    return this.options.queue;
  }

  log(line: string): void {
    this.options.log(line);
  }

  /** Past the deadline, or asked to stop: nothing new is sent. */
  pastDeadline(): boolean {
    return Date.now() > this.options.deadline || this.stopped.aborted;
  }

  /** Once per kind: a server that sends the same absurd clock with every ack is one problem. */
  warn(line: string, kind = line): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.summary.warnings.push(line);
    this.log(`warning: ${line}`);
  }

  receiveClock(serverClock: number): void {
    this.checkClock(serverClock, this.queue.receiveClock(this.options.nodeId, serverClock));
  }

  private checkClock(serverClock: number, clock: number): void {
    if (clock < serverClock) {
      this.warn(`ignored the server's Lamport clock: ${serverClockProblem(serverClock, clock)}; this machine's clock stays at ${clock}`, 'server-clock');
    }
  }

  /** Each event leaves pending on its own result; a clock rejection stays dead with the way out in its reason. */
  apply(answered: readonly EventResult[], serverClock: number | null): void {
    this.applyAnswers([{ results: answered, serverClock }]);
  }

  /**
   * Several answers (WebSocket acks, in the order they came) applied as one: one queue transaction
   * and one commit for them all, their server clocks received in order.
   */
  applyAnswers(answers: readonly Answer[]): void {
    if (answers.length === 0) return;
    const results: EventResult[] = [];
    const serverClocks: number[] = [];
    for (const answer of answers) {
      for (const result of answer.results) results.push(this.withClockHint(result));
      if (answer.serverClock !== null) serverClocks.push(answer.serverClock);
    }
    const { clock } = this.queue.applyResults(results, serverClocks.length > 0 ? { nodeId: this.options.nodeId, serverClock: serverClocks } : undefined);
    for (const result of results) this.count(result);
    // a server clock the queue ignored left this machine's clock behind it
    if (clock !== null) for (const serverClock of serverClocks) this.checkClock(serverClock, clock);
    this.options.onProgress?.(this.summary);
  }

  private count(result: EventResult): void {
    if (result.status === 'success' || result.status === 'duplicate') {
      if (result.status === 'success') this.summary.delivered++;
      else this.summary.duplicate++;
      const project = this.projectOf.get(result.event_id);
      this.projectOf.delete(result.event_id);
      if (project !== undefined && !this.projects.has(project)) {
        this.projects.add(project);
        this.summary.deliveredProjects.push(project);
      }
    } else if (result.status === 'rejected') {
      this.summary.rejected++;
      this.log(`event ${result.event_id} rejected: ${result.error ?? 'no reason given'}`);
    }
  }

  private withClockHint(result: EventResult): EventResult {
    if (!isClockRejection(result)) return result;
    this.summary.clockRejected++;
    return { ...result, error: `${result.error}; hint: ${RESET_CLOCK_HINT}` };
  }

  /**
   * The events stamped for `team`, those over the size limit kept dead here. Null: they were
   * restamped (a clock poisoned before kitty bounded it) and must be read again.
   */
  prepare(events: readonly QueuedEvent[], team: string, cursor: number): Prepared | null {
    if (events.some((event) => isAbsurdLamport(event.envelope.lamport_clock))) {
      this.repairClock();
      return null;
    }
    const ready: Prepared['ready'] = [];
    const oversized: { eventId: string; reason: string }[] = [];
    for (const event of events) {
      const envelope = event.envelope.team_slug === LOCAL_TEAM_SLUG ? { ...event.envelope, team_slug: team } : event.envelope;
      // serialized once: the size check and the frame use the same text
      const json = JSON.stringify(envelope);
      const bytes = Buffer.byteLength(json);
      const reason = oversizeReason(envelope, bytes);
      if (reason) oversized.push({ eventId: envelope.event_id, reason });
      else {
        ready.push({ seq: event.seq, envelope, json, bytes });
        if (envelope.project_uuid) this.projectOf.set(envelope.event_id, envelope.project_uuid);
      }
    }
    this.keepOversized(oversized);
    return { ready, lastSeq: events.at(-1)?.seq ?? cursor };
  }

  private keepOversized(oversized: readonly { eventId: string; reason: string }[]): void {
    if (oversized.length === 0) return;
    keepTooLarge(this.queue.path, oversized);
    this.summary.tooLarge += oversized.length;
    for (const event of oversized) this.log(`event ${event.eventId} kept dead here: ${event.reason}`);
  }

  private repairClock(): void {
    if (this.restamped) throw new Error('events with an absurd Lamport value are still pending after restamping them');
    this.restamped = true;
    const result = withQueueDb(this.queue.path, (db) => restamp(db, 'absurd', [this.options.nodeId]));
    const clock = result.clocks.find((entry) => entry.nodeId === this.options.nodeId) ?? result.clocks[0];
    this.warn(
      `${result.restamped} pending events carried a Lamport value above 2^48 (a clock poisoned by a server); restamped them${clock ? `, this machine's clock is now ${clock.after}` : ''}`,
    );
  }

  /**
   * New events always get a higher seq, so new work is what lies past the cursor; pending events
   * behind it were sent in this run without an answer and wait for a later run (resending them is
   * safe: the server keeps each event once). True when more arrived within the idle time.
   */
  async waitForMore(cursor: number): Promise<boolean> {
    const until = Math.min(Date.now() + this.options.idleMs, this.options.deadline);
    while (Date.now() < until && !this.stopped.aborted) {
      if (this.queue.nextPending(1, cursor).events.length > 0) return true;
      await sleep(100);
    }
    return this.queue.nextPending(1, cursor).events.length > 0;
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { accessToken } from '../auth/session.js';
import { LOCAL_TEAM_SLUG } from '../constants.js';
import type { Envelope } from '../derive/envelope.js';
import { ErrorCode, KittyError, isKittyError } from '../errors/index.js';
import type { EventQueue, QueuedEvent } from '../queue/queue.js';
import { sendBatch } from '../transport/http-batch.js';
import { CLOSE_REVOKED, FRAME_OVERHEAD_BYTES, MAX_IN_FLIGHT, WsSession } from '../transport/ws-session.js';
import { fitting, jsonBytes, MAX_BATCH_EVENTS, MAX_FRAME_BYTES, MAX_FRAME_EVENTS, oversizeReason } from '../transport/limits.js';
import { TransportError, type EventResult } from '../transport/types.js';
import { fetchWsToken } from '../transport/ws-token.js';
import { isAbsurdLamport, serverClockProblem } from '../clock/lamport.js';
import { RESET_CLOCK_HINT, restamp, withQueueDb } from '../clock/repair.js';
import type { Env } from '../state/paths.js';
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
}

export type StopReason = 'drained' | 'timeout' | 'unreachable' | 'session';

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
}

/** A server's refusal of an event's Lamport value: the reference server's code, or a reason naming the field. */
function isClockRejection(result: EventResult): boolean {
  return result.status === 'rejected' && (result.code === 'lamport_too_far_ahead' || /lamport/i.test(result.error ?? ''));
}

/** The events of one send: stamped for the wire, with the queue position to read on from. */
interface Prepared {
  ready: { seq: number; envelope: Envelope; bytes: number }[];
  lastSeq: number;
}

const WS_FAILURES_BEFORE_HTTP = 10;

/** min(0.5 s × 2^n, 30 s) with full jitter (docs/protocol.md). */
export function backoffMs(failures: number): number {
  return Math.random() * Math.min(500 * 2 ** Math.max(failures - 1, 0), 30_000);
}

/**
 * Drains pending sendable events to the server. An event leaves pending only on its own result
 * (success/duplicate → delivered, rejected → dead); whole-request failures back off and never
 * count against an event. Every loop is bounded by the deadline and the failure budget.
 */
export async function drain(options: DrainOptions): Promise<DrainSummary> {
  const summary: DrainSummary = {
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
  };
  const { queue, log } = options;
  let failures = 0;
  let wsFailures = 0;
  // the server's per-batch limit once it named one: every later batch of this drain fits it
  const batchLimits = { maxEvents: MAX_BATCH_EVENTS };
  // a busy server's Retry-After: waiting less would only be answered 503 again
  let retryAfterMs = 0;
  // every request and connection of this drain ends at the deadline, even with a server that hangs
  const timedOut = AbortSignal.timeout(Math.max(options.deadline - Date.now(), 0));

  const warned = new Set<string>();
  // once per kind: a server that sends the same absurd clock with every ack is one problem
  const warn = (line: string, kind = line): void => {
    if (warned.has(kind)) return;
    warned.add(kind);
    summary.warnings.push(line);
    log(`warning: ${line}`);
  };

  const receiveClock = (serverClock: number): void => {
    const clock = queue.receiveClock(options.nodeId, serverClock);
    if (clock < serverClock) {
      warn(`ignored the server's Lamport clock: ${serverClockProblem(serverClock, clock)}; this machine's clock stays at ${clock}`, 'server-clock');
    }
  };

  // a clock rejection stays dead (retrying it as it is would fail again), with the way out in its reason
  const withClockHint = (result: EventResult): EventResult => {
    if (!isClockRejection(result)) return result;
    summary.clockRejected++;
    return { ...result, error: `${result.error}; hint: ${RESET_CLOCK_HINT}` };
  };

  const apply = (answered: readonly EventResult[], serverClock: number | null): void => {
    const results = answered.map(withClockHint);
    queue.applyResults(results);
    for (const result of results) {
      if (result.status === 'success') summary.delivered++;
      else if (result.status === 'duplicate') summary.duplicate++;
      else if (result.status === 'rejected') {
        summary.rejected++;
        log(`event ${result.event_id} rejected: ${result.error ?? 'no reason given'}`);
      }
    }
    if (serverClock !== null) receiveClock(serverClock);
    options.onProgress?.(summary);
  };

  const stamp = (envelope: Envelope, team: string): Envelope => (envelope.team_slug === LOCAL_TEAM_SLUG ? { ...envelope, team_slug: team } : envelope);

  let restamped = false;
  // pending events stamped by a clock poisoned before kitty bounded it: restamped once, then read again
  const repairClock = (): void => {
    if (restamped) throw new Error('events with an absurd Lamport value are still pending after restamping them');
    restamped = true;
    const result = withQueueDb(queue.path, (db) => restamp(db, 'absurd', [options.nodeId]));
    const clock = result.clocks.find((entry) => entry.nodeId === options.nodeId) ?? result.clocks[0];
    warn(`${result.restamped} pending events carried a Lamport value above 2^48 (a clock poisoned by a server); restamped them${clock ? `, this machine's clock is now ${clock.after}` : ''}`);
  };

  // null: the events were restamped and must be read again
  const prepare = (events: readonly QueuedEvent[], team: string, cursor: number): Prepared | null => {
    if (events.some((event) => isAbsurdLamport(event.envelope.lamport_clock))) {
      repairClock();
      return null;
    }
    const ready: Prepared['ready'] = [];
    const oversized: { eventId: string; reason: string }[] = [];
    for (const event of events) {
      const envelope = stamp(event.envelope, team);
      const bytes = jsonBytes(envelope);
      const reason = oversizeReason(envelope, bytes);
      if (reason) oversized.push({ eventId: envelope.event_id, reason });
      else ready.push({ seq: event.seq, envelope, bytes });
    }
    if (oversized.length > 0) {
      keepTooLarge(queue.path, oversized);
      summary.tooLarge += oversized.length;
      for (const event of oversized) log(`event ${event.eventId} kept dead here: ${event.reason}`);
    }
    return { ready, lastSeq: events.at(-1)?.seq ?? cursor };
  };

  // New events always get a higher seq, so new work is what lies past the cursor; pending events
  // behind it were sent in this run without an answer and wait for a later run (resending them is
  // safe: the server keeps each event once).
  const waitForMore = async (cursor: number): Promise<boolean> => {
    const until = Math.min(Date.now() + options.idleMs, options.deadline);
    while (Date.now() < until) {
      if (queue.nextPending(1, cursor).events.length > 0) return true;
      await sleep(100);
    }
    return queue.nextPending(1, cursor).events.length > 0;
  };

  const overHttp = async (): Promise<'drained' | 'timeout'> => {
    summary.transport = 'http';
    let cursor = 0;
    let refreshed = false;
    for (;;) {
      if (Date.now() > options.deadline) return 'timeout';
      const { events } = queue.nextPending(MAX_BATCH_EVENTS, cursor);
      if (events.length === 0) {
        if (!(await waitForMore(cursor))) return 'drained';
        continue;
      }
      const { token, credentials } = await accessToken(options.env, { force: refreshed, signal: timedOut });
      const prepared = prepare(events, credentials.team_slug, cursor);
      if (prepared === null) continue;
      const batch = prepared.ready.map((item) => item.envelope);
      let results: EventResult[];
      try {
        results = batch.length === 0 ? [] : await sendBatch(credentials.server_url, token, batch, timedOut, batchLimits);
      } catch (error) {
        if (error instanceof TransportError && error.partial.length > 0) apply(error.partial, null);
        if (error instanceof TransportError && error.kind === 'unauthorized' && !refreshed) {
          refreshed = true;
          continue;
        }
        if (error instanceof TransportError && error.kind === 'unauthorized') {
          throw new KittyError(ErrorCode.SESSION_EXPIRED, 'the server refused a freshly refreshed token', { hint: 'run `kitty auth login`' });
        }
        throw error;
      }
      refreshed = false;
      failures = 0;
      const answered = new Set(results.map((result) => result.event_id));
      summary.unanswered += batch.filter((envelope) => !answered.has(envelope.event_id)).length;
      cursor = prepared.lastSeq;
      apply(results, null);
    }
  };

  const overWebSocket = async (): Promise<'drained' | 'timeout' | 'closed'> => {
    const { wsToken, credentials } = await fetchWsToken(options.env, timedOut);

    return new Promise((resolve, reject) => {
      const frames: Set<string>[] = [];
      const inFlight = new Set<string>();
      let cursor = 0;
      let settled = false;
      let idleTimer: NodeJS.Timeout | undefined;
      let session: WsSession | undefined;
      const onDeadline = (): void => finish('timeout');
      const finish = (outcome: 'drained' | 'timeout' | 'closed'): void => {
        if (settled) return;
        settled = true;
        clearTimeout(idleTimer);
        timedOut.removeEventListener('abort', onDeadline);
        session?.close();
        resolve(outcome);
      };
      timedOut.addEventListener('abort', onDeadline, { once: true });
      let idleSince: number | null = null;
      const pump = (): void => {
        if (settled || !session?.open) return;
        try {
          if (Date.now() > options.deadline) return finish('timeout');
          while (inFlight.size < MAX_IN_FLIGHT) {
            const { events } = queue.nextPending(Math.min(MAX_FRAME_EVENTS, MAX_IN_FLIGHT - inFlight.size), cursor);
            if (events.length === 0) break;
            const prepared = prepare(events, credentials.team_slug, cursor);
            if (prepared === null) continue;
            const frame = prepared.ready.slice(0, fitting(prepared.ready.map((item) => item.bytes), { maxItems: MAX_FRAME_EVENTS, maxBytes: MAX_FRAME_BYTES, overhead: FRAME_OVERHEAD_BYTES }));
            // what did not fit this frame is read again for the next one
            cursor = frame.length < prepared.ready.length ? frame.at(-1)!.seq : prepared.lastSeq;
            if (frame.length === 0) continue;
            const ids = new Set(frame.map((item) => item.envelope.event_id));
            frames.push(ids);
            for (const id of ids) inFlight.add(id);
            session.send(frame.map((item) => item.envelope));
          }
          if (inFlight.size > 0) {
            idleSince = null;
            return;
          }
          idleSince ??= Date.now();
          if (Date.now() - idleSince >= options.idleMs) return finish('drained');
          idleTimer = setTimeout(pump, 100);
        } catch (error) {
          settled = true;
          session?.close();
          reject(error);
        }
      };
      WsSession.connect(credentials.server_url, wsToken, {
        onAck: (results, serverClock) => {
          const frame = frames.shift();
          try {
            apply(results, serverClock);
          } catch (error) {
            settled = true;
            session?.close();
            reject(error);
            return;
          }
          for (const result of results) inFlight.delete(result.event_id);
          for (const id of frame ?? []) {
            if (inFlight.delete(id)) summary.unanswered++;
          }
          pump();
        },
        onClose: (reason, code) => {
          if (code === CLOSE_REVOKED && !settled) {
            // reconnecting cannot help: the session is gone until the user logs in again
            settled = true;
            clearTimeout(idleTimer);
            timedOut.removeEventListener('abort', onDeadline);
            reject(new TransportError(`the server revoked this session (WebSocket ${reason})`, 'revoked'));
            return;
          }
          if (!settled) {
            summary.lastError = reason;
            log(`websocket: ${reason}`);
          }
          finish('closed');
        },
      }, Math.min(10_000, Math.max(options.deadline - Date.now(), 1))).then(
        (connected) => {
          if (settled) {
            connected.close();
            return;
          }
          session = connected;
          summary.transport = 'websocket';
          wsFailures = 0;
          failures = 0;
          if (connected.serverClock !== null) receiveClock(connected.serverClock);
          pump();
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          timedOut.removeEventListener('abort', onDeadline);
          reject(error);
        },
      );
    });
  };

  for (;;) {
    if (Date.now() > options.deadline) return { ...summary, stoppedBecause: 'timeout' };
    try {
      const useHttp = options.httpOnly || wsFailures >= WS_FAILURES_BEFORE_HTTP;
      const outcome = useHttp ? await overHttp() : await overWebSocket();
      if (outcome === 'drained' || outcome === 'timeout') return { ...summary, stoppedBecause: outcome };
      failures++;
    } catch (error) {
      if (timedOut.aborted) {
        // an earlier failure (connection refused, …) says more than the abort it ended in
        summary.lastError ??= 'the server did not answer before the timeout';
        log(`timed out: ${(error as Error).message}`);
        return { ...summary, stoppedBecause: 'timeout' };
      }
      if (isKittyError(error) && (error.code === ErrorCode.SESSION_EXPIRED || error.code === ErrorCode.NOT_LOGGED_IN || error.code.startsWith('KITTY_ERR_CREDENTIALS'))) {
        summary.lastError = error.message;
        return { ...summary, stoppedBecause: 'session' };
      }
      if (error instanceof TransportError && error.kind === 'revoked') {
        summary.lastError = error.message;
        log(`${error.message}: stopping until \`kitty auth login\``);
        return { ...summary, stoppedBecause: 'session' };
      }
      if (!(error instanceof TransportError) && !(isKittyError(error) && error.code === ErrorCode.SERVER_UNREACHABLE)) throw error;
      if (error instanceof TransportError && error.kind === 'refused' && wsFailures < WS_FAILURES_BEFORE_HTTP) {
        // retrying a plain refusal ten times would only delay delivery (minutes in total); the server
        // answers HTTP, so batch HTTP takes over at once and the next run tries WebSocket again
        wsFailures = WS_FAILURES_BEFORE_HTTP;
        summary.lastError = error.message;
        log(`${error.message}: using batch HTTP`);
        continue;
      }
      failures++;
      if (!options.httpOnly && wsFailures < WS_FAILURES_BEFORE_HTTP) wsFailures++;
      retryAfterMs = error instanceof TransportError ? (error.retryAfterMs ?? 0) : 0;
      summary.lastError = error.message;
      log(`attempt ${failures} failed: ${error.message}`);
    }
    if (failures >= options.maxFailures) return { ...summary, stoppedBecause: 'unreachable' };
    await sleep(Math.min(Math.max(backoffMs(failures), retryAfterMs), Math.max(options.deadline - Date.now(), 0)));
    retryAfterMs = 0;
  }
}

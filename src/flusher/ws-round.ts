import { fitting, MAX_FRAME_BYTES, MAX_FRAME_EVENTS } from '../transport/limits.js';
import { type EventResult, TransportError } from '../transport/types.js';
import { CLOSE_REVOKED, deadAfterMs, FRAME_OVERHEAD_BYTES, MAX_IN_FLIGHT, WsSession } from '../transport/ws-session.js';
import { fetchWsToken } from '../transport/ws-token.js';
import type { Answer, Delivery, Prepared } from './delivery.js';

type WsOutcome = 'drained' | 'timeout' | 'closed';

/**
 * Acks are written to the queue together once they answer this many events, and whenever nothing
 * waits for an ack: one commit (a disk flush) per ack cost more than everything else the flusher
 * does per frame. The window goes on meanwhile, since an acked event is no longer in flight.
 */
const APPLY_EVERY_EVENTS = MAX_IN_FLIGHT;

/** Asked to stop, a round waits this long for the acks of what it has in flight. */
const STOP_GRACE_MS = 1_000;

/** Sends pending events over one WebSocket session until none is left, the deadline, or a close. */
export async function deliverOverWebSocket(delivery: Delivery): Promise<WsOutcome> {
  const { wsToken, credentials } = await fetchWsToken(delivery.options.env, delivery.timedOut);
  return new Promise((resolve, reject) => {
    new WsRound(delivery, credentials.team_slug, resolve, reject).start(credentials.server_url, wsToken);
  });
}

/**
 * One WebSocket session's sending: frames go out while fewer than MAX_IN_FLIGHT events wait for
 * their ack, each ack frees its events and sends more, and the round settles exactly once. Results
 * reach the queue only from acks; acks not yet written when the round ends are written before it
 * settles (a crash before that leaves their events pending: sent again, the server answers duplicate).
 */
class WsRound {
  /** The event ids of each frame sent, in order: acks answer frames in the order they were sent. */
  private readonly frames: Set<string>[] = [];
  private readonly inFlight = new Set<string>();
  /** Acks received and not yet written to the queue, in the order they came. */
  private unapplied: Answer[] = [];
  private unappliedEvents = 0;
  private cursor = 0;
  private settled = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleSince: number | null = null;
  private session: WsSession | undefined;
  private readonly onDeadline = (): void => this.finish('timeout');
  private stopTimer: NodeJS.Timeout | undefined;
  private readonly onStop = (): void => {
    this.stopTimer = setTimeout(() => this.finish('timeout'), STOP_GRACE_MS);
    this.pump();
  };

  constructor(
    private readonly delivery: Delivery,
    private readonly team: string,
    private readonly resolve: (outcome: WsOutcome) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  start(serverUrl: string, wsToken: string): void {
    this.delivery.timedOut.addEventListener('abort', this.onDeadline, { once: true });
    this.delivery.stopped.addEventListener('abort', this.onStop, { once: true });
    const connectMs = Math.min(10_000, Math.max(this.delivery.options.deadline - Date.now(), 1));
    const handlers = {
      onAck: (results: EventResult[], serverClock: number | null) => this.onAck(results, serverClock),
      onClose: (reason: string, code?: number) => this.onClose(reason, code),
    };
    WsSession.connect(serverUrl, wsToken, handlers, connectMs, deadAfterMs(this.delivery.options.env)).then(
      (session) => this.onOpen(session),
      (error: unknown) => this.fail(error),
    );
  }

  private onOpen(session: WsSession): void {
    if (this.settled) {
      session.close();
      return;
    }
    this.session = session;
    this.delivery.summary.transport = 'websocket';
    this.delivery.wsFailures = 0;
    this.delivery.failures = 0;
    if (session.serverClock !== null) this.delivery.receiveClock(session.serverClock);
    this.pump();
  }

  private pump(): void {
    if (this.settled || !this.session?.open) return;
    try {
      if (this.delivery.stopped.aborted) {
        // what is in flight is acked first: written, it is not sent again by the next flusher
        if (this.inFlight.size === 0) this.finish('timeout');
        return;
      }
      if (this.delivery.pastDeadline()) {
        this.finish('timeout');
        return;
      }
      this.sendWhileRoom(this.session);
      if (this.inFlight.size > 0) {
        if (this.unappliedEvents >= APPLY_EVERY_EVENTS) this.applyAcked();
        this.idleSince = null;
        return;
      }
      this.applyAcked();
      this.idleSince ??= Date.now();
      if (Date.now() - this.idleSince >= this.delivery.options.idleMs) {
        this.finish('drained');
        return;
      }
      this.idleTimer = setTimeout(() => this.pump(), 100);
    } catch (error) {
      this.fail(error);
    }
  }

  private sendWhileRoom(session: WsSession): void {
    while (this.inFlight.size < MAX_IN_FLIGHT) {
      const { events } = this.delivery.queue.nextPending(Math.min(MAX_FRAME_EVENTS, MAX_IN_FLIGHT - this.inFlight.size), this.cursor);
      if (events.length === 0) return;
      const prepared = this.delivery.prepare(events, this.team, this.cursor);
      if (prepared === null) continue;
      const frame = this.nextFrame(prepared);
      if (frame.length === 0) continue;
      const ids = new Set(frame.map((item) => item.envelope.event_id));
      this.frames.push(ids);
      for (const id of ids) this.inFlight.add(id);
      session.send(frame);
    }
  }

  /** As many of the prepared events as one frame holds; what did not fit is read again for the next. */
  private nextFrame(prepared: Prepared): Prepared['ready'] {
    const sizes = prepared.ready.map((item) => item.bytes);
    const frame = prepared.ready.slice(0, fitting(sizes, { maxItems: MAX_FRAME_EVENTS, maxBytes: MAX_FRAME_BYTES, overhead: FRAME_OVERHEAD_BYTES }));
    this.cursor = frame.length < prepared.ready.length ? frame.at(-1)!.seq : prepared.lastSeq;
    return frame;
  }

  /** Writes the acks received so far to the queue, in one transaction; kept for another try if that fails. */
  private applyAcked(): void {
    this.delivery.applyAnswers(this.unapplied);
    this.unapplied = [];
    this.unappliedEvents = 0;
  }

  private onAck(results: EventResult[], serverClock: number | null): void {
    const frame = this.frames.shift();
    if (this.settled) {
      // an ack that came after the round ended still counts: written at once, nothing is waiting for it
      try {
        this.delivery.applyAnswers([{ results, serverClock }]);
      } catch {
        // its events stay pending and are sent again
      }
      return;
    }
    this.unapplied.push({ results, serverClock });
    this.unappliedEvents += results.length;
    for (const result of results) this.inFlight.delete(result.event_id);
    for (const id of frame ?? []) {
      if (this.inFlight.delete(id)) this.delivery.summary.unanswered++;
    }
    this.pump();
  }

  private onClose(reason: string, code?: number): void {
    if (code === CLOSE_REVOKED && !this.settled) {
      // reconnecting cannot help: the session is gone until the user logs in again
      this.fail(new TransportError(`the server revoked this session (WebSocket ${reason})`, 'revoked'));
      return;
    }
    if (!this.settled) {
      this.delivery.summary.lastError = reason;
      this.delivery.log(`websocket: ${reason}`);
    }
    this.finish('closed');
  }

  private finish(outcome: WsOutcome): void {
    if (!this.settle()) return;
    try {
      this.applyAcked();
    } catch (error) {
      this.reject(error);
      return;
    }
    this.resolve(outcome);
  }

  private fail(error: unknown): void {
    if (!this.settle()) return;
    try {
      this.applyAcked();
    } catch {
      // the first failure is the one to report; these events stay pending and are sent again
    }
    this.reject(error);
  }

  /** True the first time only: whatever ends the round first decides its outcome. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.stopTimer);
    this.delivery.timedOut.removeEventListener('abort', this.onDeadline);
    this.delivery.stopped.removeEventListener('abort', this.onStop);
    this.session?.close();
    return true;
  }
}

import { fitting, MAX_FRAME_BYTES, MAX_FRAME_EVENTS } from '../transport/limits.js';
import { type EventResult, TransportError } from '../transport/types.js';
import { CLOSE_REVOKED, deadAfterMs, FRAME_OVERHEAD_BYTES, MAX_IN_FLIGHT, WsSession } from '../transport/ws-session.js';
import { fetchWsToken } from '../transport/ws-token.js';
import type { Delivery, Prepared } from './delivery.js';

type WsOutcome = 'drained' | 'timeout' | 'closed';

/** Sends pending events over one WebSocket session until none is left, the deadline, or a close. */
export async function deliverOverWebSocket(delivery: Delivery): Promise<WsOutcome> {
  const { wsToken, credentials } = await fetchWsToken(delivery.options.env, delivery.timedOut);
  return new Promise((resolve, reject) => {
    new WsRound(delivery, credentials.team_slug, resolve, reject).start(credentials.server_url, wsToken);
  });
}

/**
 * One WebSocket session's sending: frames go out while fewer than MAX_IN_FLIGHT events wait for
 * their ack, each ack frees its events and sends more, and the round settles exactly once.
 */
class WsRound {
  /** The event ids of each frame sent, in order: acks answer frames in the order they were sent. */
  private readonly frames: Set<string>[] = [];
  private readonly inFlight = new Set<string>();
  private cursor = 0;
  private settled = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleSince: number | null = null;
  private session: WsSession | undefined;
  private readonly onDeadline = (): void => this.finish('timeout');

  constructor(
    private readonly delivery: Delivery,
    private readonly team: string,
    private readonly resolve: (outcome: WsOutcome) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  start(serverUrl: string, wsToken: string): void {
    this.delivery.timedOut.addEventListener('abort', this.onDeadline, { once: true });
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
      if (this.delivery.pastDeadline()) {
        this.finish('timeout');
        return;
      }
      this.sendWhileRoom(this.session);
      if (this.inFlight.size > 0) {
        this.idleSince = null;
        return;
      }
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

  private onAck(results: EventResult[], serverClock: number | null): void {
    const frame = this.frames.shift();
    try {
      this.delivery.apply(results, serverClock);
    } catch (error) {
      this.fail(error);
      return;
    }
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
    if (this.settle()) this.resolve(outcome);
  }

  private fail(error: unknown): void {
    if (this.settle()) this.reject(error);
  }

  /** True the first time only: whatever ends the round first decides its outcome. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.idleTimer);
    this.delivery.timedOut.removeEventListener('abort', this.onDeadline);
    this.session?.close();
    return true;
  }
}

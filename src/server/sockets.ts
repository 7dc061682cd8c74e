import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { bearer, requestUrl } from './http.js';
import { ingestBatches } from './ingest.js';
import type { Limits } from './limits.js';
import type { Session, Store } from './store/types.js';

interface SocketOptions {
  store: Store;
  limits: Limits;
  heartbeatMs: number;
  log: (line: string) => void;
}

/** WebSocket close code for a session revoked while connected (4000-4999: application codes). */
const CLOSE_REVOKED = 4001;

/** Frames a connection may have waiting for the store before the server stops reading it; those waiting are stored together. */
const FRAMES_QUEUED = 4;

type Frame = { data: RawData; isBinary: boolean };
/** A frame parsed: its events for the store, or the answer it gets without the store (null: none, for a pong). */
type Parsed = { answer: unknown } | { events: unknown[] };

/**
 * The event WebSocket. Each raw socket gets an error listener before anything is written to it: a
 * client that resets the connection while its 401 is being written made the write fail with no
 * listener, and Node ends the process on an unhandled 'error'.
 */
export class EventSockets {
  private readonly wss: WebSocketServer;
  private readonly byFamily = new Map<string, Set<WebSocket>>();

  constructor(private readonly options: SocketOptions) {
    // maxPayload: ws refuses a larger frame from its header, before buffering it (close 1009)
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.limits.frameBytes });
    this.wss.on('error', (error) => options.log(`websocket server error: ${error.message}`));
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    // a rejection here (the database unreachable) would be unhandled, which ends the process
    this.upgrade(req, socket, head).catch((error: unknown) => {
      this.options.log(`websocket upgrade failed: ${(error as Error).message}`);
      socket.destroy();
    });
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = requestUrl(req)?.pathname;
    const token = bearer(req);
    const session = path === '/ws/v1/events/' && token ? await this.options.store.sessionForToken(token, 'ws') : null;
    if (!session) {
      const status = path === '/ws/v1/events/' ? '401 Unauthorized' : path === undefined ? '400 Bad Request' : '404 Not Found';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, session));
  }

  /** Closes the connections of a session that was just revoked: its tokens are gone, so must its sockets be. */
  revoke(family: string): void {
    for (const ws of this.byFamily.get(family) ?? []) ws.close(CLOSE_REVOKED, 'session revoked');
  }

  closeAll(): void {
    for (const client of this.wss.clients) client.terminate();
  }

  private track(ws: WebSocket, family: string): void {
    const set = this.byFamily.get(family) ?? new Set<WebSocket>();
    set.add(ws);
    this.byFamily.set(family, set);
    ws.once('close', () => {
      set.delete(ws);
      if (set.size === 0) this.byFamily.delete(family);
    });
  }

  /** One connection: its heartbeat, the hello, then its frames (answerInOrder). */
  private serve(ws: WebSocket, session: Session): void {
    const { store, heartbeatMs, log, limits } = this.options;
    let lastTraffic = Date.now();
    // invalid UTF-8, an oversized frame or a protocol error closes this connection only
    ws.on('error', (error) => log(`websocket of ${session.username} closed: ${error.message}`));
    this.track(ws, session.family);
    const send = (value: unknown): void => {
      if (ws.readyState !== ws.OPEN) return;
      // a client that never reads its acks would otherwise grow the heap frame after frame
      if (ws.bufferedAmount > limits.wsBufferedBytes) return void ws.terminate();
      ws.send(JSON.stringify(value));
    };
    const heartbeat = setInterval(() => {
      if (Date.now() - lastTraffic > heartbeatMs * 2) return void ws.terminate();
      send({ type: 'ping' });
    }, heartbeatMs);
    // attached at once: a client gone while the clock is read must still stop the heartbeat
    ws.on('close', () => clearInterval(heartbeat));
    // the hello goes first; frames are answered after it, in order
    const hello = store.teamClock(session.teamSlug).then(
      (clock) => send({ type: 'hello', server_clock: clock }),
      (error: unknown) => {
        log(`websocket of ${session.username} failed to start: ${(error as Error).message}`);
        ws.terminate();
      },
    );
    this.answerInOrder(ws, session, hello, send, () => {
      lastTraffic = Date.now();
    });
  }

  /**
   * Frames are answered in the order they came, after `hello`, each ack after the one before. The
   * frames that waited while the store was busy are stored together (one transaction), then
   * answered one by one. While a few wait, the socket is not read, so a client sending without
   * waiting for acks is held back by TCP instead of growing the heap.
   */
  private answerInOrder(ws: WebSocket, session: Session, hello: Promise<unknown>, send: (value: unknown) => void, onTraffic: () => void): void {
    const { log } = this.options;
    const waiting: Frame[] = [];
    // frames received and not yet answered (waiting or being stored)
    let held = 0;
    let paused = false;
    let draining = false;
    const drain = async (): Promise<void> => {
      draining = true;
      await hello;
      while (waiting.length > 0) {
        // one turn of the event loop lets the frames already on the socket arrive (a frame is about
        // one read), so that they are stored together
        await new Promise((resolve) => setImmediate(resolve));
        const frames = waiting.splice(0, FRAMES_QUEUED);
        try {
          for (const answer of await this.answerAll(session, frames)) if (answer) send(answer);
        } catch (error) {
          log(`websocket of ${session.username}: ${(error as Error).message}`);
        }
        held -= frames.length;
        if (paused && held < FRAMES_QUEUED) {
          paused = false;
          ws.resume();
        }
      }
      draining = false;
    };
    ws.on('message', (data, isBinary) => {
      onTraffic();
      waiting.push({ data, isBinary });
      if (++held >= FRAMES_QUEUED && !paused) {
        paused = true;
        ws.pause();
      }
      if (!draining) void drain();
    });
  }

  /** The answers to frames received in a row, in their order; the events of all of them stored in one call. */
  private async answerAll(session: Session, frames: readonly Frame[]): Promise<unknown[]> {
    const { store, limits, log } = this.options;
    const parsed = frames.map((frame) => this.parse(frame));
    const batches = parsed.flatMap((item) => ('events' in item ? [item.events] : []));
    const ack = ({ results, clock }: { results: unknown[]; clock: number }) => ({ type: 'ack', results, server_clock: clock });
    let acks: unknown[];
    try {
      acks = batches.length > 0 ? (await ingestBatches(store, session, batches, limits)).map(ack) : [];
    } catch {
      // stored together, they failed together: each again on its own, so one bad frame fails alone
      acks = [];
      for (const batch of batches) {
        try {
          acks.push(ack((await ingestBatches(store, session, [batch], limits))[0]!));
        } catch (error) {
          log(`internal error on a websocket frame: ${(error as Error).message}`);
          acks.push({ type: 'error', code: 'internal_error', error: 'internal server error' });
        }
      }
    }
    return parsed.map((item) => ('events' in item ? acks.shift() : item.answer));
  }

  /** A frame's events to store, or the answer it gets without the store (null: none, for a pong). */
  private parse({ data, isBinary }: Frame): Parsed {
    const { limits } = this.options;
    const error = (code: string, message: string): Parsed => ({ answer: { type: 'error', code, error: message } });
    if (isBinary) return error('frame_binary', 'frames must be JSON text');
    let message: { type?: unknown; events?: unknown };
    try {
      message = JSON.parse(data.toString()) as typeof message;
    } catch {
      return error('frame_not_json', 'frame is not JSON');
    }
    if (message?.type === 'pong') return { answer: null };
    if (message?.type !== 'events' || !Array.isArray(message.events)) {
      return error('frame_unknown', 'expected {"type":"events","events":[...]} or {"type":"pong"}');
    }
    if (message.events.length > limits.frameEvents) {
      return error('frame_too_many_events', `at most ${limits.frameEvents} events per frame, got ${message.events.length}; nothing in it was stored`);
    }
    return { events: message.events };
  }
}

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { bearer, requestUrl } from './http.js';
import { ingestEvents } from './ingest.js';
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

/** Frames a connection may have waiting for the store before the server stops reading it. */
const FRAMES_QUEUED = 4;

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

  /**
   * Frames are answered one at a time, in the order they came: each ack follows the one before. While
   * a few wait for the store, the socket is not read, so a client sending without waiting for acks
   * is held back by TCP instead of growing the heap.
   */
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
    let queued = 0;
    // the hello goes first; frames are answered after it, in order
    let chain = store.teamClock(session.teamSlug).then(
      (clock) => send({ type: 'hello', server_clock: clock }),
      (error: unknown) => {
        log(`websocket of ${session.username} failed to start: ${(error as Error).message}`);
        ws.terminate();
      },
    );
    ws.on('message', (data, isBinary) => {
      lastTraffic = Date.now();
      if (++queued >= FRAMES_QUEUED) ws.pause();
      chain = chain
        .then(async () => {
          const answer = await this.answer(session, data, isBinary);
          if (answer) send(answer);
        })
        .catch((error: unknown) => log(`websocket of ${session.username}: ${(error as Error).message}`))
        .finally(() => {
          if (--queued === FRAMES_QUEUED - 1) ws.resume();
        });
    });
  }

  private async answer(session: Session, data: RawData, isBinary: boolean): Promise<unknown> {
    const { store, limits, log } = this.options;
    if (isBinary) return { type: 'error', code: 'frame_binary', error: 'frames must be JSON text' };
    let message: { type?: unknown; events?: unknown };
    try {
      message = JSON.parse(data.toString()) as typeof message;
    } catch {
      return { type: 'error', code: 'frame_not_json', error: 'frame is not JSON' };
    }
    if (message?.type === 'pong') return null;
    if (message?.type !== 'events' || !Array.isArray(message.events)) {
      return { type: 'error', code: 'frame_unknown', error: 'expected {"type":"events","events":[...]} or {"type":"pong"}' };
    }
    if (message.events.length > limits.frameEvents) {
      return {
        type: 'error',
        code: 'frame_too_many_events',
        error: `at most ${limits.frameEvents} events per frame, got ${message.events.length}; nothing in it was stored`,
      };
    }
    try {
      const { results, clock } = await ingestEvents(store, session, message.events, limits);
      return { type: 'ack', results, server_clock: clock };
    } catch (error) {
      log(`internal error on a websocket frame: ${(error as Error).message}`);
      return { type: 'error', code: 'internal_error', error: 'internal server error' };
    }
  }
}

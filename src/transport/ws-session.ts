import WebSocket from '../deps/ws.js';
import { MAX_FRAME_BYTES, MAX_FRAME_EVENTS } from './limits.js';
import { type EventResult, TransportError, type TransportErrorKind } from './types.js';

export const MAX_IN_FLIGHT = 1000;
/** `{"type":"events","events":[]}`: the bytes of a frame besides its events and their commas. */
export const FRAME_OVERHEAD_BYTES = Buffer.byteLength(JSON.stringify({ type: 'events', events: [] }));
const DEAD_AFTER_MS = 30_000;

/**
 * How long a session may stay silent before it is declared dead: 30 s, or `KITTY_WS_DEAD_AFTER_MS`
 * (at least 1,000) for a network whose idle connections die sooner, and for tests.
 */
export function deadAfterMs(env: NodeJS.ProcessEnv): number {
  const value = Number(env.KITTY_WS_DEAD_AFTER_MS);
  return Number.isInteger(value) && value >= 1000 ? value : DEAD_AFTER_MS;
}
/** The server's close code for a session revoked while connected (a logout elsewhere, a replayed refresh token). */
export const CLOSE_REVOKED = 4001;

interface WsHandlers {
  onAck(results: EventResult[], serverClock: number | null): void;
  /** `code`: the WebSocket close code, when the server closed the connection. */
  onClose(reason: string, code?: number): void;
}

/**
 * One WebSocket connection (docs/protocol.md): hello with the server clock, frames of at most 100
 * events, an ack with one result per event, ping/pong, dead after 30 s without traffic (`deadAfterMs`).
 * Compression is off: it made small frames several times slower on loopback.
 */
export class WsSession {
  private readonly socket: WebSocket;
  private lastTraffic = Date.now();
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  serverClock: number | null = null;

  private constructor(
    socket: WebSocket,
    private readonly handlers: WsHandlers,
  ) {
    this.socket = socket;
  }

  static connect(serverUrl: string, wsToken: string, handlers: WsHandlers, timeoutMs = 10_000, deadAfter = DEAD_AFTER_MS): Promise<WsSession> {
    const url = `${serverUrl.replace(/^http/, 'ws')}/ws/v1/events/`;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { headers: { authorization: `Bearer ${wsToken}` }, perMessageDeflate: false, handshakeTimeout: timeoutMs });
      const session = new WsSession(socket, handlers);
      // a failed connect must end only in the rejection: its close event is not a session's close
      let state: 'connecting' | 'open' | 'failed' = 'connecting';
      const fail = (reason: string, kind: TransportErrorKind = 'unavailable'): void => {
        if (state !== 'connecting') return;
        state = 'failed';
        socket.terminate();
        reject(new TransportError(`websocket connect failed: ${reason}`, kind));
      };
      const timer = setTimeout(() => fail('no hello from the server'), timeoutMs);
      socket.on('unexpected-response', (_request, response) => {
        const status = response.statusCode ?? 0;
        // 5xx is an outage worth retrying; any other answer means WebSocket is not offered on this path
        fail(`the upgrade was answered HTTP ${status}`, status === 401 ? 'unauthorized' : status >= 500 ? 'unavailable' : 'refused');
      });
      socket.on('error', (error) => fail(error.message));
      socket.on('message', (data) => {
        session.lastTraffic = Date.now();
        let message: { type?: string; server_clock?: number; results?: EventResult[]; error?: string };
        try {
          message = JSON.parse(data.toString()) as typeof message;
        } catch {
          return;
        }
        if (message.type === 'hello' && state === 'connecting') {
          state = 'open';
          clearTimeout(timer);
          session.serverClock = typeof message.server_clock === 'number' ? message.server_clock : null;
          session.startWatchdog(deadAfter);
          resolve(session);
        } else if (message.type === 'ack') {
          handlers.onAck(Array.isArray(message.results) ? message.results : [], typeof message.server_clock === 'number' ? message.server_clock : null);
        } else if (message.type === 'ping') {
          session.sendJson({ type: 'pong' });
        } else if (message.type === 'error') {
          session.close(`server error: ${message.error ?? 'unknown'}`);
        }
      });
      socket.on('close', (code, reason) => {
        clearTimeout(timer);
        const why = reason.length > 0 ? `: ${reason.toString('utf8').slice(0, 200)}` : '';
        if (state === 'connecting') fail(`closed (${code}${why})`, code === CLOSE_REVOKED ? 'revoked' : 'unavailable');
        else if (state === 'open') session.finish(`connection closed (${code}${why})`, code);
      });
    });
  }

  private startWatchdog(deadAfter: number): void {
    this.watchdog = setInterval(
      () => {
        if (Date.now() - this.lastTraffic > deadAfter) this.close(`no traffic for ${deadAfter / 1000} s`);
      },
      Math.min(5_000, deadAfter / 3),
    );
    this.watchdog.unref();
  }

  private sendJson(value: unknown): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(value));
  }

  /**
   * Sends events already serialized, with their byte sizes: the frame is their JSON joined, not
   * built and measured again. A frame over the server's limits would be refused whole: the caller
   * packs frames to fit (limits.ts).
   */
  send(events: readonly { json: string; bytes: number }[]): void {
    const bytes = FRAME_OVERHEAD_BYTES + events.reduce((sum, event) => sum + event.bytes, 0) + Math.max(events.length - 1, 0);
    if (events.length > MAX_FRAME_EVENTS || bytes > MAX_FRAME_BYTES) {
      throw new Error(`refusing to send a frame of ${events.length} events and ${bytes} bytes, over the limits`);
    }
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(`{"type":"events","events":[${events.map((event) => event.json).join(',')}]}`);
  }

  get open(): boolean {
    return !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  private finish(reason: string, code?: number): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    this.handlers.onClose(reason, code);
  }

  close(reason = 'closed by client'): void {
    this.socket.terminate();
    this.finish(reason);
  }
}

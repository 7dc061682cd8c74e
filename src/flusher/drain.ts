import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, isKittyError } from '../errors/index.js';
import { TransportError } from '../transport/types.js';
import { Delivery, type DrainOptions, type DrainSummary } from './delivery.js';
import { deliverOverWebSocket } from './ws-round.js';

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
  const delivery = new Delivery(options);
  const { summary } = delivery;
  for (;;) {
    if (delivery.pastDeadline()) return { ...summary, stoppedBecause: 'timeout' };
    // a busy server's Retry-After: waiting less would only be answered 503 again
    summary.retryAfterMs = 0;
    try {
      const useHttp = options.httpOnly || delivery.wsFailures >= WS_FAILURES_BEFORE_HTTP;
      // batch HTTP is the fallback: its modules load only when it is used
      const outcome = useHttp ? await (await import('./http-round.js')).deliverOverHttp(delivery) : await deliverOverWebSocket(delivery);
      if (outcome === 'drained' || outcome === 'timeout') return { ...summary, stoppedBecause: outcome };
      delivery.failures++;
    } catch (error) {
      const stop = stopOn(delivery, error);
      if (stop) return { ...summary, stoppedBecause: stop };
      if (switchedToHttp(delivery, error as TransportError)) continue;
      summary.retryAfterMs = countFailure(delivery, error as Error);
    }
    if (delivery.failures >= options.maxFailures) return { ...summary, stoppedBecause: 'unreachable' };
    const wait = Math.min(Math.max(backoffMs(delivery.failures), summary.retryAfterMs), Math.max(options.deadline - Date.now(), 0));
    await sleep(wait, undefined, { signal: delivery.stopped }).catch(() => undefined);
  }
}

/** A failure that ends the drain: the deadline, or a session only a new login can restore. Rethrows what is no delivery failure. */
function stopOn(delivery: Delivery, error: unknown): 'timeout' | 'session' | null {
  const { summary } = delivery;
  if (delivery.timedOut.aborted) {
    // an earlier failure (connection refused, …) says more than the abort it ended in
    summary.lastError ??= 'the server did not answer before the timeout';
    delivery.log(`timed out: ${(error as Error).message}`);
    return 'timeout';
  }
  if (
    isKittyError(error) &&
    (error.code === ErrorCode.SESSION_EXPIRED || error.code === ErrorCode.NOT_LOGGED_IN || error.code.startsWith('KITTY_ERR_CREDENTIALS'))
  ) {
    summary.lastError = error.message;
    return 'session';
  }
  if (error instanceof TransportError && error.kind === 'revoked') {
    summary.lastError = error.message;
    delivery.log(`${error.message}: stopping until \`kitty auth login\``);
    return 'session';
  }
  if (!(error instanceof TransportError) && !(isKittyError(error) && error.code === ErrorCode.SERVER_UNREACHABLE)) throw error;
  return null;
}

/**
 * Retrying a plain refusal of the upgrade ten times would only delay delivery (minutes in total);
 * the server answers HTTP, so batch HTTP takes over at once and the next run tries WebSocket again.
 */
function switchedToHttp(delivery: Delivery, error: TransportError): boolean {
  if (!(error instanceof TransportError) || error.kind !== 'refused' || delivery.wsFailures >= WS_FAILURES_BEFORE_HTTP) return false;
  delivery.wsFailures = WS_FAILURES_BEFORE_HTTP;
  delivery.summary.lastError = error.message;
  delivery.log(`${error.message}: using batch HTTP`);
  return true;
}

/** Counts a failed attempt; the wait the server asked for before the next one (0: none). */
function countFailure(delivery: Delivery, error: Error): number {
  delivery.failures++;
  if (!delivery.options.httpOnly && delivery.wsFailures < WS_FAILURES_BEFORE_HTTP) delivery.wsFailures++;
  delivery.summary.lastError = error.message;
  const code = error instanceof TransportError || isKittyError(error) ? ` (${error.code})` : '';
  delivery.log(`attempt ${delivery.failures} failed${code}: ${error.message}`);
  return error instanceof TransportError ? (error.retryAfterMs ?? 0) : 0;
}

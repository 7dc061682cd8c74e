export interface EventResult {
  event_id: string;
  status: 'success' | 'duplicate' | 'rejected';
  error?: string;
  /** A stable name for a rejection's reason, where the server gives one. */
  code?: string;
}

/**
 * A request-level failure: it backs off and never counts against an individual event.
 * `refused`: the WebSocket upgrade got a plain HTTP answer (a proxy or server without WebSocket).
 */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly kind: 'unauthorized' | 'unavailable' | 'bad-request' | 'refused',
  ) {
    super(message);
  }
}

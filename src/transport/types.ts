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
 * `revoked`: the server ended the session (WebSocket close 4001): only a new login helps.
 */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly kind: 'unauthorized' | 'unavailable' | 'bad-request' | 'refused' | 'revoked',
    /** How long the server asked to be left alone (Retry-After), if it said. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }

  /** Results of the sends that succeeded before this failure: they are applied, not sent again. */
  partial: EventResult[] = [];
}

import { ErrorCode, type ErrorCodeValue } from '../errors/index.js';

export interface EventResult {
  event_id: string;
  status: 'success' | 'duplicate' | 'rejected';
  error?: string;
  /** A stable name for a rejection's reason, where the server gives one. */
  code?: string;
}

export type TransportErrorKind = 'unauthorized' | 'unavailable' | 'bad-request' | 'refused' | 'revoked';

const CODES: Record<TransportErrorKind, ErrorCodeValue> = {
  unauthorized: ErrorCode.TRANSPORT_UNAUTHORIZED,
  unavailable: ErrorCode.TRANSPORT_UNAVAILABLE,
  'bad-request': ErrorCode.TRANSPORT_BAD_REQUEST,
  refused: ErrorCode.TRANSPORT_REFUSED,
  revoked: ErrorCode.TRANSPORT_REVOKED,
};

/**
 * A request-level failure: it backs off and never counts against an individual event.
 * `refused`: the WebSocket upgrade got a plain HTTP answer (a proxy or server without WebSocket).
 * `revoked`: the server ended the session (WebSocket close 4001): only a new login helps.
 */
export class TransportError extends Error {
  /** The stable code of the kind, for logs, `--json` and scripts. */
  readonly code: ErrorCodeValue;

  constructor(
    message: string,
    readonly kind: TransportErrorKind,
    /** How long the server asked to be left alone (Retry-After), if it said. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'TransportError';
    this.code = CODES[kind];
  }

  /** Results of the sends that succeeded before this failure: they are applied, not sent again. */
  partial: EventResult[] = [];
}

/**
 * Every failure a user can act on is a KittyError: a stable code that tests and scripts match on,
 * a one-line message naming the value seen, and a hint with the command that fixes it.
 * Anything else reaching the top-level handler is a bug and is reported as one.
 */
export const ErrorCode = {
  USAGE: 'KITTY_ERR_USAGE',
  NOT_A_REPO: 'KITTY_ERR_NOT_A_REPO',
  GIT_MISSING: 'KITTY_ERR_GIT_MISSING',
  GIT_FAILED: 'KITTY_ERR_GIT_FAILED',
  CONFIG_MALFORMED: 'KITTY_ERR_CONFIG_MALFORMED',
  CONFIG_UNREADABLE: 'KITTY_ERR_CONFIG_UNREADABLE',
  CONFIG_LOCKED: 'KITTY_ERR_CONFIG_LOCKED',
  WP_UNREADABLE: 'KITTY_ERR_WP_UNREADABLE',
  WP_MALFORMED: 'KITTY_ERR_WP_MALFORMED',
  WP_TOO_LARGE: 'KITTY_ERR_WP_TOO_LARGE',
  WP_DIRTY: 'KITTY_ERR_WP_DIRTY',
  UNKNOWN_LANE: 'KITTY_ERR_UNKNOWN_LANE',
  QUEUE_LOCKED: 'KITTY_ERR_QUEUE_LOCKED',
  QUEUE_UNAVAILABLE: 'KITTY_ERR_QUEUE_UNAVAILABLE',
  QUEUE_ROW_CORRUPT: 'KITTY_ERR_QUEUE_ROW_CORRUPT',
  STATE_DIR: 'KITTY_ERR_STATE_DIR',
  HOOKS_GLOBAL_PATH: 'KITTY_ERR_HOOKS_GLOBAL_PATH',
  HOOKS_CONFLICT: 'KITTY_ERR_HOOKS_CONFLICT',
  HOOKS_DIR_UNWRITABLE: 'KITTY_ERR_HOOKS_DIR_UNWRITABLE',
  SERVER_INSECURE_HOST: 'KITTY_ERR_SERVER_INSECURE_HOST',
  SERVER_START: 'KITTY_ERR_SERVER_START',
  INSECURE_URL: 'KITTY_ERR_INSECURE_URL',
  NO_SERVER: 'KITTY_ERR_NO_SERVER',
  SERVER_UNREACHABLE: 'KITTY_ERR_SERVER_UNREACHABLE',
  LOGIN_FAILED: 'KITTY_ERR_LOGIN_FAILED',
  LOGIN_RATE_LIMITED: 'KITTY_ERR_LOGIN_RATE_LIMITED',
  SERVER_BAD_LIMITS: 'KITTY_ERR_SERVER_BAD_LIMITS',
  SERVER_USER_PASSWORD: 'KITTY_ERR_SERVER_USER_PASSWORD',
  SERVER_SCHEMA_TOO_NEW: 'KITTY_ERR_SERVER_SCHEMA_TOO_NEW',
  NOT_LOGGED_IN: 'KITTY_ERR_NOT_LOGGED_IN',
  SESSION_EXPIRED: 'KITTY_ERR_SESSION_EXPIRED',
  CREDENTIALS_INSECURE: 'KITTY_ERR_CREDENTIALS_INSECURE',
  CREDENTIALS_UNREADABLE: 'KITTY_ERR_CREDENTIALS_UNREADABLE',
  CREDENTIALS_LOCKED: 'KITTY_ERR_CREDENTIALS_LOCKED',
  EVENT_TOO_LARGE: 'KITTY_ERR_EVENT_TOO_LARGE',
  REPO_PATH_UNSUPPORTED: 'KITTY_ERR_REPO_PATH_UNSUPPORTED',
  CONFIG_UUID_LOST: 'KITTY_ERR_CONFIG_UUID_LOST',
  TRANSPORT_UNAUTHORIZED: 'KITTY_ERR_TRANSPORT_UNAUTHORIZED',
  TRANSPORT_UNAVAILABLE: 'KITTY_ERR_TRANSPORT_UNAVAILABLE',
  TRANSPORT_BAD_REQUEST: 'KITTY_ERR_TRANSPORT_BAD_REQUEST',
  TRANSPORT_REFUSED: 'KITTY_ERR_TRANSPORT_REFUSED',
  TRANSPORT_REVOKED: 'KITTY_ERR_TRANSPORT_REVOKED',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

interface KittyErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Process exit code; 2 for usage errors, 1 otherwise. */
  exitCode?: number;
}

export class KittyError extends Error {
  readonly code: ErrorCodeValue;
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(code: ErrorCodeValue, message: string, options: KittyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KittyError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? (code === ErrorCode.USAGE ? 2 : 1);
  }
}

export function isKittyError(error: unknown): error is KittyError {
  return error instanceof KittyError;
}

/** The one-line form every user-facing failure takes: code, message naming the value, the fix. */
export function describeError(error: KittyError): string {
  return `error ${describeWarning(error)}`;
}

/** The same line for a problem the command went on despite (after `kitty: warning: `). */
export function describeWarning(error: KittyError): string {
  return `${error.code}: ${error.message}${error.hint ? `; hint: ${error.hint}` : ''}`;
}

/** errno-style code of a Node system error, if any. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

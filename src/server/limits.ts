/**
 * Every bound the server puts on what one client may make it hold or do. They are enforced before
 * the expensive step they protect (reading, parsing, hashing), so a hostile client meets a 413,
 * a 429 or a closed connection instead of taking memory or the event loop from everyone else.
 */
export interface Limits {
  /** One event as serialized JSON, all fields included. */
  envelopeBytes: number;
  /** Objects and arrays inside one event; deeper input is rejected before anything recurses into it. */
  envelopeDepth: number;
  frameEvents: number;
  /** A WebSocket frame: larger ones close that connection (1009) before they are buffered. */
  frameBytes: number;
  batchEvents: number;
  /** A batch body, on the wire and again after gunzip. A larger one is answered 413, and the client sends it in halves. */
  batchBytes: number;
  /** Bodies of /token/, /token/refresh/ and /token/revoke/. */
  tokenBodyBytes: number;
  /**
   * Body bytes all requests may hold at once; past it a request is answered 503 and retried later.
   * At least twice batchBytes: a gzip batch holds its wire bytes while it is inflated.
   */
  bodyBudgetBytes: number;
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Unsent bytes a WebSocket may pile up (a client that never reads its acks) before it is dropped. */
  wsBufferedBytes: number;
  pageEvents: number;
  pageBytes: number;
  /** How far past the server's clock an event's timestamp may lie (clients' clocks drift). */
  futureSkewMs: number;
  /** How far past its team's Lamport clock an event may jump; beyond it one client could exhaust everyone's clock. */
  lamportLead: number;
  /** Failed logins per user, and per address, before each further attempt must wait. */
  loginFreeFailuresPerUser: number;
  loginFreeFailuresPerAddress: number;
  loginBackoffBaseMs: number;
  loginBackoffMaxMs: number;
  /** Failures older than this are forgotten. */
  loginForgetMs: number;
  /** scrypt checks running at once: the rest of libuv's pool stays free for everything else. */
  passwordChecks: number;
  passwordQueue: number;
  /** A rotated refresh token used again within this window is refused without ending the session (two local processes refreshing at once). */
  refreshReuseGraceMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  envelopeBytes: 64 * 1024,
  envelopeDepth: 32,
  frameEvents: 100,
  frameBytes: 1024 * 1024,
  batchEvents: 1000,
  batchBytes: 8 * 1024 * 1024,
  tokenBodyBytes: 4 * 1024,
  bodyBudgetBytes: 32 * 1024 * 1024,
  maxConnections: 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  wsBufferedBytes: 8 * 1024 * 1024,
  pageEvents: 1000,
  pageBytes: 1024 * 1024,
  futureSkewMs: 24 * 3600_000,
  lamportLead: 1_000_000,
  loginFreeFailuresPerUser: 5,
  loginFreeFailuresPerAddress: 20,
  loginBackoffBaseMs: 1_000,
  loginBackoffMaxMs: 15 * 60_000,
  loginForgetMs: 60 * 60_000,
  passwordChecks: 2,
  passwordQueue: 64,
  refreshReuseGraceMs: 10_000,
});

/** The variable an operator (or a test) sets to a JSON object of overrides, e.g. `{"maxConnections":200}`. */
export const LIMITS_ENV = 'KITTY_SERVER_LIMITS';

class LimitsError extends Error {
  readonly code = 'KITTY_SERVER_BAD_LIMITS';
}

/** Defaults, then `KITTY_SERVER_LIMITS`, then `overrides`; an unknown key or a bad value is an error, never ignored. */
export function resolveLimits(env: NodeJS.ProcessEnv, overrides: Partial<Limits> = {}): Limits {
  const fromEnv = env[LIMITS_ENV] ? parseOverrides(env[LIMITS_ENV]) : {};
  const limits = { ...DEFAULT_LIMITS, ...fromEnv, ...overrides };
  // a budget one legitimate batch cannot fit in would answer that batch 503 for ever
  if (limits.bodyBudgetBytes < 2 * limits.batchBytes)
    throw new LimitsError(`bodyBudgetBytes (${limits.bodyBudgetBytes}) must be at least twice batchBytes (${limits.batchBytes})`);
  return limits;
}

function parseOverrides(text: string): Partial<Limits> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LimitsError(`${LIMITS_ENV} is not a JSON object`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new LimitsError(`${LIMITS_ENV} is not a JSON object`);
  const result: Partial<Limits> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) throw new LimitsError(`${LIMITS_ENV}: unknown limit "${key}"; known: ${Object.keys(DEFAULT_LIMITS).join(', ')}`);
    if (!Number.isSafeInteger(value) || (value as number) < 0)
      throw new LimitsError(`${LIMITS_ENV}: ${key} must be a whole number >= 0, got ${JSON.stringify(value)}`);
    result[key as keyof Limits] = value as number;
  }
  return result;
}

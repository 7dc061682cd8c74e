import type { Credentials } from '../auth/credentials.js';
import { accessToken } from '../auth/session.js';
import { ErrorCode, KittyError } from '../errors/index.js';
import type { Env } from '../state/paths.js';

/** What a call answers when the server refused its access token (HTTP 401). */
export const UNAUTHORIZED = Symbol('unauthorized');

interface Authorized {
  token: string;
  credentials: Credentials;
}

/**
 * Runs `call` with a live access token; when the server refuses it, refreshes the session once and
 * calls again. Refused twice, the session has ended: only a new login helps. The one place the
 * 401 → refresh → retry rule lives, for every authenticated request a client makes.
 */
export async function withAccessToken<T>(
  env: Env,
  signal: AbortSignal | undefined,
  call: (session: Authorized) => Promise<T | typeof UNAUTHORIZED>,
): Promise<T> {
  const first = await call(await accessToken(env, { signal }));
  if (first !== UNAUTHORIZED) return first;
  const second = await call(await accessToken(env, { force: true, signal }));
  if (second !== UNAUTHORIZED) return second;
  throw new KittyError(ErrorCode.SESSION_EXPIRED, 'the server refused a freshly refreshed access token', { hint: 'run `kitty auth login`' });
}

import { ErrorCode, KittyError } from '../errors/index.js';
import { type HttpAnswer, post } from '../net/post.js';
import { LockTimeoutError, withFileLock } from '../state/lock.js';
import type { Env } from '../state/paths.js';
import { type Credentials, credentialsPath, readCredentials, writeCredentials } from './credentials.js';

interface TokenResponse {
  access: string;
  refresh: string;
  access_lifetime: number;
  refresh_lifetime: number;
  team_slug: string;
}

/** Refresh this long before the access token expires, so a request never starts with a dead one. */
const REFRESH_MARGIN_MS = 60_000;

export function unreachable(url: string, cause: unknown): KittyError {
  const reason = (cause as { cause?: { code?: string } })?.cause?.code ?? systemCode(cause) ?? (cause as Error)?.message ?? String(cause);
  const untrusted = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(reason);
  return new KittyError(ErrorCode.SERVER_UNREACHABLE, `cannot reach the sync server at ${url} (${reason})`, {
    cause,
    hint: untrusted
      ? "this machine does not trust the server's TLS certificate: if it comes from your own CA, point NODE_EXTRA_CA_CERTS at that CA's PEM file"
      : 'check the URL and that the server runs (`kitty doctor` tests it); queued events wait until it is back',
  });
}

/** A system or TLS error's code (`ECONNREFUSED`, `DEPTH_ZERO_SELF_SIGNED_CERT`), as node:net and node:tls report it. */
function systemCode(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | null)?.code;
  return cause instanceof Error && typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code) ? code : undefined;
}

/** `signal` (e.g. a flush's deadline) ends the request early; it never waits more than 30 s. */
export async function postJson(url: string, body: unknown, token?: string, signal?: AbortSignal): Promise<HttpAnswer> {
  try {
    return await post(
      url,
      JSON.stringify(body),
      { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal ? AbortSignal.any([signal, AbortSignal.timeout(30_000)]) : AbortSignal.timeout(30_000),
    );
  } catch (cause) {
    throw unreachable(new URL(url).origin, cause);
  }
}

function toCredentials(serverUrl: string, username: string, response: TokenResponse, now = Date.now()): Credentials {
  return {
    server_url: serverUrl,
    username,
    team_slug: response.team_slug,
    access: response.access,
    access_expires_at: now + response.access_lifetime * 1000,
    refresh: response.refresh,
    refresh_expires_at: now + response.refresh_lifetime * 1000,
  };
}

/** Seconds from a Retry-After header (seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterSeconds(response: { headers: { get(name: string): string | null } }, now = Date.now()): number | null {
  const raw = response.headers.get('retry-after')?.trim();
  if (!raw) return null;
  if (/^\d+$/.test(raw)) return Number(raw);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The stable `code` of a JSON error body, if the server sent one. */
export async function errorCode(response: { json(): Promise<unknown> }): Promise<string | null> {
  try {
    const body = (await response.json()) as { code?: unknown };
    return typeof body?.code === 'string' ? body.code : null;
  } catch {
    return null;
  }
}

export async function login(serverUrl: string, username: string, password: string, env: Env): Promise<{ credentials: Credentials; path: string }> {
  const response = await postJson(`${serverUrl}/api/v1/token/`, { username, password });
  // a throttled login never checked the password: calling it wrong would send the user guessing again
  if (response.status === 429 || response.status === 503) {
    const seconds = retryAfterSeconds(response);
    const code = await errorCode(response);
    const when = seconds === null ? 'later' : `in ${seconds} s`;
    if (response.status === 429) {
      throw new KittyError(
        ErrorCode.LOGIN_RATE_LIMITED,
        `login to ${serverUrl} as ${username} refused: the server is limiting login attempts after failed ones (HTTP 429${code ? ` ${code}` : ''}); retry ${when}`,
        {
          hint: `wait${seconds === null ? '' : ` ${seconds} s`}, then run \`kitty auth login\` again with the right password`,
        },
      );
    }
    throw new KittyError(
      ErrorCode.LOGIN_FAILED,
      `login to ${serverUrl} as ${username} not checked: the server is busy (HTTP 503${code ? ` ${code}` : ''}); retry ${when}`,
      {
        hint: `wait${seconds === null ? ' a moment' : ` ${seconds} s`}, then run \`kitty auth login\` again`,
      },
    );
  }
  if (response.status === 401 || response.status === 400) {
    throw new KittyError(ErrorCode.LOGIN_FAILED, `login to ${serverUrl} as ${username} failed: wrong username or password`, {
      hint: 'check both and run `kitty auth login` again',
    });
  }
  const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
  if (location) {
    // redirects are not followed (a password is not sent on to another address): the user picks the URL
    const target = new URL(location, `${serverUrl}/`).origin;
    throw new KittyError(ErrorCode.LOGIN_FAILED, `login to ${serverUrl} failed: the server redirects to ${target} (HTTP ${response.status})`, {
      hint: `log in to that address: \`kitty auth login --server ${target}\``,
    });
  }
  if (!response.ok) {
    throw new KittyError(ErrorCode.LOGIN_FAILED, `login to ${serverUrl} failed: the server answered HTTP ${response.status}`, {
      hint: 'try again later; `kitty doctor` checks the server',
    });
  }
  const credentials = toCredentials(serverUrl, username, (await response.json()) as TokenResponse);
  return { credentials, path: writeCredentials(credentials, env) };
}

function sessionExpired(detail: string): KittyError {
  return new KittyError(ErrorCode.SESSION_EXPIRED, `your sync session has ended (${detail})`, { hint: 'run `kitty auth login`' });
}

/**
 * A live access token, refreshed silently shortly before it expires (or at once with `force`,
 * after a 401). A refused refresh ends the session: the user must log in again.
 */
export async function accessToken(env: Env, options: { force?: boolean; signal?: AbortSignal } = {}): Promise<{ token: string; credentials: Credentials }> {
  const credentials = readCredentials(env);
  if (!credentials) {
    throw new KittyError(ErrorCode.NOT_LOGGED_IN, 'not logged in to a sync server', { hint: 'run `kitty auth login --server URL`' });
  }
  if (!options.force && credentials.access_expires_at - Date.now() > REFRESH_MARGIN_MS) return { token: credentials.access, credentials };
  // A refresh token is single-use: two processes sending the same one would have the second
  // refused, and the server ends the session when a rotated token comes back late. One refresh
  // at a time, and whoever waited takes the tokens the other obtained.
  const lock = `${credentialsPath(env)}.lock`;
  try {
    return await withFileLock(lock, () => refreshLocked(env, credentials.access, options), {
      timeoutMs: REFRESH_LOCK_WAIT_MS,
      staleMs: REFRESH_LOCK_WAIT_MS,
      tag: 'refresh',
    });
  } catch (error) {
    if (!(error instanceof LockTimeoutError)) throw error;
    throw new KittyError(
      ErrorCode.CREDENTIALS_LOCKED,
      `another kitty process${error.owner ? ` (pid ${error.owner.pid})` : ''} held ${lock} for ${REFRESH_LOCK_WAIT_MS / 1000} s while refreshing the session`,
      {
        cause: error,
        hint: 'run the command again; if no other kitty runs, delete that lock file',
      },
    );
  }
}

/** Up to postJson's 30 s request timeout, plus the write: a holder past that has died or hung. */
const REFRESH_LOCK_WAIT_MS = 40_000;

async function refreshLocked(
  env: Env,
  seenAccess: string,
  options: { force?: boolean; signal?: AbortSignal },
): Promise<{ token: string; credentials: Credentials }> {
  const credentials = readCredentials(env);
  if (!credentials) {
    throw new KittyError(ErrorCode.NOT_LOGGED_IN, 'not logged in to a sync server (the credentials were removed)', {
      hint: 'run `kitty auth login --server URL`',
    });
  }
  // another process refreshed (or logged in) while this one waited
  if (credentials.access !== seenAccess && credentials.access_expires_at - Date.now() > REFRESH_MARGIN_MS) return { token: credentials.access, credentials };
  if (!options.force && credentials.access_expires_at - Date.now() > REFRESH_MARGIN_MS) return { token: credentials.access, credentials };
  if (credentials.refresh_expires_at <= Date.now()) throw sessionExpired('the refresh token expired');
  const response = await postJson(`${credentials.server_url}/api/v1/token/refresh/`, { refresh: credentials.refresh }, undefined, options.signal);
  if (response.status === 401) throw sessionExpired('the server refused the refresh token');
  if (!response.ok) throw unreachable(credentials.server_url, new Error(`HTTP ${response.status} on token refresh`));
  const renewed = toCredentials(credentials.server_url, credentials.username, (await response.json()) as TokenResponse);
  writeCredentials(renewed, env);
  return { token: renewed.access, credentials: renewed };
}

import { ErrorCode, KittyError } from '../errors/index.js';
import type { Env } from '../state/paths.js';
import { readCredentials, writeCredentials, type Credentials } from './credentials.js';

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
  const reason = (cause as { cause?: { code?: string } })?.cause?.code ?? (cause as Error)?.message ?? String(cause);
  return new KittyError(ErrorCode.SERVER_UNREACHABLE, `cannot reach the sync server at ${url} (${reason})`, {
    cause,
    hint: 'check the URL and that the server runs (`kitty doctor` tests it); queued events wait until it is back',
  });
}

/** `signal` (e.g. a flush's deadline) ends the request early; it never waits more than 30 s. */
export async function postJson(url: string, body: unknown, token?: string, signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(30_000)]) : AbortSignal.timeout(30_000),
    });
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

export async function login(serverUrl: string, username: string, password: string, env: Env): Promise<{ credentials: Credentials; path: string }> {
  const response = await postJson(`${serverUrl}/api/v1/token/`, { username, password });
  if (response.status === 401 || response.status === 400) {
    throw new KittyError(ErrorCode.LOGIN_FAILED, `login to ${serverUrl} as ${username} failed: wrong username or password`, {
      hint: 'check both and run `kitty auth login` again',
    });
  }
  if (!response.ok) {
    throw new KittyError(ErrorCode.LOGIN_FAILED, `login to ${serverUrl} failed: the server answered HTTP ${response.status}`, { hint: 'try again later; `kitty doctor` checks the server' });
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
  if (credentials.refresh_expires_at <= Date.now()) throw sessionExpired('the refresh token expired');
  const response = await postJson(`${credentials.server_url}/api/v1/token/refresh/`, { refresh: credentials.refresh }, undefined, options.signal);
  if (response.status === 401) throw sessionExpired('the server refused the refresh token');
  if (!response.ok) throw unreachable(credentials.server_url, new Error(`HTTP ${response.status} on token refresh`));
  const renewed = toCredentials(credentials.server_url, credentials.username, (await response.json()) as TokenResponse);
  writeCredentials(renewed, env);
  return { token: renewed.access, credentials: renewed };
}

import type { Credentials } from '../auth/credentials.js';
import { postJson } from '../auth/session.js';
import type { Env } from '../state/paths.js';
import { UNAUTHORIZED, withAccessToken } from './authorized.js';
import { TransportError } from './types.js';

/** A short-lived WebSocket token (docs/protocol.md, ws-token). */
export function fetchWsToken(env: Env, signal?: AbortSignal): Promise<{ wsToken: string; credentials: Credentials }> {
  return withAccessToken(env, signal, async ({ token, credentials }) => {
    const response = await postJson(`${credentials.server_url}/api/v1/ws-token/`, {}, token, signal);
    if (response.status === 401) return UNAUTHORIZED;
    if (!response.ok) throw new TransportError(`ws-token request answered HTTP ${response.status}`, 'unavailable');
    const { ws_token: wsToken } = (await response.json()) as { ws_token: string };
    return { wsToken, credentials };
  });
}

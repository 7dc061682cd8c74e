import { accessToken, postJson } from '../auth/session.js';
import type { Credentials } from '../auth/credentials.js';
import { ErrorCode, KittyError } from '../errors/index.js';
import type { Env } from '../state/paths.js';
import { TransportError } from './types.js';

/** A short-lived WebSocket token (docs/protocol.md, ws-token), refreshing the access token once on 401. */
export async function fetchWsToken(env: Env, signal?: AbortSignal): Promise<{ wsToken: string; credentials: Credentials }> {
  const { token, credentials } = await accessToken(env, { signal });
  const url = `${credentials.server_url}/api/v1/ws-token/`;
  let response = await postJson(url, {}, token, signal);
  if (response.status === 401) response = await postJson(url, {}, (await accessToken(env, { force: true, signal })).token, signal);
  if (response.status === 401) throw new KittyError(ErrorCode.SESSION_EXPIRED, 'the server refused the access token', { hint: 'run `kitty auth login`' });
  if (!response.ok) throw new TransportError(`ws-token request answered HTTP ${response.status}`, 'unavailable');
  const { ws_token: wsToken } = (await response.json()) as { ws_token: string };
  return { wsToken, credentials };
}

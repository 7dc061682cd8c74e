import { isKittyError } from '../errors/index.js';
import type { HttpAnswer } from '../net/post.js';
import type { Credentials } from './credentials.js';
import { postJson } from './session.js';

export type RevokeOutcome =
  | { revoked: true }
  /** Why the server did not revoke the session; the refresh token then lives until it expires. */
  | { revoked: false; reason: string };

/** Logging out must not wait long on a server that hangs: the credentials go either way. */
const REVOKE_TIMEOUT_MS = 5_000;

/**
 * Ends the session on the server (`POST /api/v1/token/revoke/` with the refresh token; the access
 * token goes along for servers that want a Bearer). Never throws: logout forgets the credentials
 * whatever the server says, and reports what it said.
 */
export async function revokeSession(credentials: Credentials): Promise<RevokeOutcome> {
  let response: HttpAnswer;
  try {
    response = await postJson(
      `${credentials.server_url}/api/v1/token/revoke/`,
      { refresh: credentials.refresh },
      credentials.access,
      AbortSignal.timeout(REVOKE_TIMEOUT_MS),
    );
  } catch (error) {
    return { revoked: false, reason: isKittyError(error) ? error.message : String(error) };
  }
  if (response.ok) return { revoked: true };
  if (response.status === 404 || response.status === 405) {
    return { revoked: false, reason: `the server at ${credentials.server_url} does not offer session revocation (HTTP ${response.status}: an older server)` };
  }
  if (response.status === 401) return { revoked: false, reason: `the server at ${credentials.server_url} no longer knows this session (HTTP 401)` };
  return { revoked: false, reason: `the server at ${credentials.server_url} answered HTTP ${response.status}` };
}

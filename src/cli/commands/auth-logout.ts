import { type Credentials, credentialsPath, deleteCredentials, readCredentials } from '../../auth/credentials.js';
import { type RevokeOutcome, revokeSession } from '../../auth/revoke.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, sanitize } from '../output.js';

/** A broken or insecure credentials file is still deleted: there is just no session to revoke. */
function storedCredentials(io: Io): Credentials | null {
  try {
    return readCredentials(io.env);
  } catch {
    return null;
  }
}

function expiry(credentials: Credentials): string {
  return Number.isFinite(credentials.refresh_expires_at) ? new Date(credentials.refresh_expires_at).toISOString() : 'it expires';
}

export const command: Command = {
  help: `Usage: kitty auth logout [--json]

Ends the session on the server (POST /api/v1/token/revoke/ with the refresh token) and deletes the
stored credentials. The credentials are deleted even when the server cannot be reached or does not
offer revocation (an older server); kitty then says so, and the refresh token stays valid on the
server until it expires. Queued events stay queued and are sent after the next login.

Options:
  --json     print {logged_out, revoked, reason, credentials_file} as JSON
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { json: { type: 'boolean' } }, 'kitty auth logout');
    const credentials = storedCredentials(io);
    const outcome: RevokeOutcome | null = credentials ? await revokeSession(credentials) : null;
    const removed = deleteCredentials(io.env);
    const path = credentialsPath(io.env);
    if (values.json) {
      printJson(io, {
        logged_out: removed,
        revoked: outcome?.revoked ?? false,
        reason: outcome && !outcome.revoked ? outcome.reason : null,
        credentials_file: path,
      });
      return 0;
    }
    if (!removed) {
      io.stdout.write('kitty: not logged in\n');
      return 0;
    }
    if (outcome && !outcome.revoked) {
      io.stderr.write(
        `kitty: warning: ${sanitize(outcome.reason)}; the session could not be ended there, its refresh token stays valid until ${expiry(credentials!)}\n`,
      );
    }
    const where = credentials ? ` of ${sanitize(credentials.server_url)}` : '';
    const how = outcome?.revoked ? 'session ended on the server, ' : '';
    io.stdout.write(`kitty: logged out${where} (${how}removed ${path})\n`);
    return 0;
  },
};

import { credentialsPath, readCredentials } from '../../auth/credentials.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, sanitize } from '../output.js';

export const command: Command = {
  help: `Usage: kitty auth status [--json]

Shows who is logged in to which server, and until when the session lasts. Exits 1 when not
logged in.

Options:
  --json     print {logged_in, server_url, username, team_slug, ...} (never the tokens)
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { json: { type: 'boolean' } }, 'kitty auth status');
    const credentials = readCredentials(io.env);
    const info = credentials
      ? {
          logged_in: true,
          server_url: credentials.server_url,
          username: credentials.username,
          team_slug: credentials.team_slug,
          session_expires_at: new Date(credentials.refresh_expires_at).toISOString(),
          credentials_file: credentialsPath(io.env),
        }
      : { logged_in: false, credentials_file: credentialsPath(io.env) };
    if (values.json) printJson(io, info);
    else if (credentials)
      io.stdout.write(
        `${sanitize(`logged in to ${credentials.server_url} as ${credentials.username} (team ${credentials.team_slug}) until ${info.session_expires_at}`)}\n`,
      );
    else io.stdout.write('not logged in; run `kitty auth login --server URL` to turn sync on\n');
    return credentials ? 0 : 1;
  },
};

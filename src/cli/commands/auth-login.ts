import { join } from 'node:path';
import { readCredentials } from '../../auth/credentials.js';
import { resolveServerUrl } from '../../auth/server-url.js';
import { login } from '../../auth/session.js';
import { previousTeam } from '../../auth/teams.js';
import { ErrorCode, KittyError } from '../../errors/index.js';
import { startFlusherDetached } from '../../flusher/launch.js';
import { repoInfo } from '../../git/repo.js';
import { readConfig } from '../../identity/config-file.js';
import { EventQueue } from '../../queue/queue.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, sanitize } from '../output.js';
import { readSecret } from '../secret.js';

/** The project of the working directory, as committed: its server URL and uuid (nothing is written). */
async function projectConfig(io: Io): Promise<{ serverUrl: string | null; uuid: string | null }> {
  try {
    const repo = await repoInfo(io.cwd, io.env);
    const read = readConfig(join(repo.root, '.kittify', 'config.yaml'));
    return read.kind === 'ok' ? { serverUrl: read.values.serverUrl, uuid: read.values.uuid } : { serverUrl: null, uuid: null };
  } catch {
    return { serverUrl: null, uuid: null };
  }
}

/** Sendable events waiting in the queue. */
function waiting(io: Io): number {
  const queue = EventQueue.open({ env: io.env });
  try {
    return queue.counts().pending - queue.stats().notSendable;
  } finally {
    queue.close();
  }
}

/**
 * After a login, what is already queued is delivered at once, unless this project's events went
 * to another team until now: the user hears that first, and sending waits for a commit or flush.
 */
function afterLogin(io: Io, project: string | null, team: string, replacedTeam: string | null): void {
  const before = project ? previousTeam(io.env, project, replacedTeam) : null;
  if (before && before !== team) {
    io.stderr.write(
      `${sanitize(`kitty: warning: this project's events went to team ${before} until now; you are logged in to team ${team}, so from now on they go to ${team}, whose board lacks the earlier ones (the server keeps teams apart). To stay with ${before}, \`kitty auth login\` as a user of ${before}; nothing is sent before your next commit or \`kitty sync flush\``)}
`,
    );
    return;
  }
  const count = waiting(io);
  if (count > 0 && startFlusherDetached(io.env))
    io.stderr.write(`kitty: delivering ${count} queued event${count === 1 ? '' : 's'} in the background (\`kitty sync status\` shows how it goes)
`);
}

export const command: Command = {
  help: `Usage: kitty auth login [--server URL] [--username U] [--password-stdin] [--json]

Logs in to a sync server and stores the tokens and your team in the credentials file (mode 0600):
$KITTY_HOME/credentials.json, else $XDG_CONFIG_HOME/kitty/credentials.json. Tokens are refreshed
silently before they expire. Events already queued are then delivered in the background, unless
this project's events went to another team until now: that is warned about first, and nothing is
sent before the next commit or \`kitty sync flush\`.

The server URL: --server, else KITTY_SERVER_URL, else "serverUrl" in kitty's settings
(package.json#kitty, .kittyrc, .kittyrc.json/.yaml, kitty.config.js/mjs/cjs), else sync.server_url
in .kittify/config.yaml. Plain http:// only for loopback hosts.

Options:
  --server URL      the sync server
  --username U      your user name (asked for when omitted on a terminal)
  --password-stdin  read the password from stdin instead of asking
  --json            print {server_url, username, team_slug} as JSON (never the tokens)
  -h, --help        show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(
      argv,
      { server: { type: 'string' }, username: { type: 'string' }, 'password-stdin': { type: 'boolean' }, json: { type: 'boolean' } },
      'kitty auth login',
    );
    let previous = null;
    try {
      previous = readCredentials(io.env);
    } catch {
      // a broken or insecure file is replaced by this login
    }
    const project = await projectConfig(io);
    const server = await resolveServerUrl({
      flag: values.server,
      env: io.env,
      cwd: io.cwd,
      projectUrl: project.serverUrl,
      loginUrl: previous?.server_url,
    });
    if (!server) {
      throw new KittyError(ErrorCode.NO_SERVER, 'no sync server URL is configured', {
        hint: 'pass it: `kitty auth login --server https://kitty.example.com` (or set KITTY_SERVER_URL)',
      });
    }
    const username = values.username ?? previous?.username ?? (io.stdin.isTTY && !values['password-stdin'] ? await ask('username: ', io) : undefined);
    if (!username) throw new KittyError(ErrorCode.USAGE, 'kitty auth login: no username given', { hint: 'pass --username NAME' });
    if (!values['password-stdin'] && !io.stdin.isTTY) {
      throw new KittyError(ErrorCode.USAGE, 'kitty auth login: stdin is not a terminal, so the password cannot be asked for', {
        hint: 'pipe it with --password-stdin: `printf %s "$PASS" | kitty auth login --password-stdin`',
      });
    }
    const password = await readSecret(`password for ${username} at ${server.url}: `, io);
    if (!password)
      throw new KittyError(ErrorCode.USAGE, 'kitty auth login: the password is empty', { hint: 'give the password on stdin with --password-stdin' });
    const { credentials, path } = await login(server.url, username, password, io.env);
    if (values.json) {
      printJson(io, { server_url: credentials.server_url, username: credentials.username, team_slug: credentials.team_slug, credentials_file: path });
    } else {
      io.stdout.write(`${sanitize(`kitty: logged in to ${credentials.server_url} as ${credentials.username} (team ${credentials.team_slug}); sync is on`)}\n`);
    }
    afterLogin(io, project.uuid, credentials.team_slug, previous?.team_slug ?? null);
    return 0;
  },
};

async function ask(prompt: string, io: Io): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    return (await rl.question(prompt)).trim();
  } finally {
    rl.close();
  }
}

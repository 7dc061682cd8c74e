import { readCredentials } from '../../auth/credentials.js';
import { BACKLOG_WARNING_THRESHOLD } from '../../constants.js';
import { runningFlusher } from '../../flusher/launch.js';
import { EventQueue } from '../../queue/queue.js';
import { readSyncRecord } from '../../state/sync-record.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, sanitize } from '../output.js';

function age(iso: string | null): string | null {
  if (!iso) return null;
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3600)}h`;
}

export const command: Command = {
  help: `Usage: kitty sync status [--json]

Shows the queue (pending, delivered, dead), the age of the oldest pending event, the last error
(the last delivery attempt's, such as a server that refused the connection, else the last one an
event got), whether a flusher runs, and who is logged in to which server.

Options:
  --json     print the status as JSON
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { json: { type: 'boolean' } }, 'kitty sync status');
    let login: { server_url: string; username: string; team_slug: string } | null = null;
    let loginError: string | null = null;
    try {
      const credentials = readCredentials(io.env);
      if (credentials) login = { server_url: credentials.server_url, username: credentials.username, team_slug: credentials.team_slug };
    } catch (error) {
      loginError = (error as Error).message;
    }
    const queue = EventQueue.open({ env: io.env });
    const counts = queue.counts();
    const stats = queue.stats();
    queue.close();
    const flusher = runningFlusher(io.env);
    const attempt = readSyncRecord(io.env);
    const lastError = attempt?.last_error ?? stats.lastError;
    const status = {
      ...counts,
      not_sendable: stats.notSendable,
      oldest_pending_at: stats.oldestPending,
      last_error: lastError,
      last_error_at: attempt?.last_error ? attempt.at : null,
      flusher_pid: flusher?.pid ?? null,
      logged_in: login !== null,
      login,
      login_error: loginError,
      backlog: counts.pending >= BACKLOG_WARNING_THRESHOLD,
    };
    if (values.json) {
      printJson(io, status);
      return 0;
    }
    io.stdout.write(
      `queue: ${counts.pending} pending, ${counts.delivered} delivered, ${counts.dead} dead${stats.notSendable ? ` (${stats.notSendable} local only: no project_uuid)` : ''}\n`,
    );
    if (status.backlog)
      io.stderr.write(`kitty: warning: ${counts.pending} events are pending, a backlog nothing is dropped from; send them with \`kitty sync flush\`\n`);
    if (stats.oldestPending) io.stdout.write(`oldest pending: ${age(stats.oldestPending)} old\n`);
    if (lastError) io.stdout.write(`last error: ${sanitize(lastError)}${status.last_error_at ? ` (${age(status.last_error_at)} ago)` : ''}\n`);
    io.stdout.write(`flusher: ${flusher ? `running (pid ${flusher.pid}${flusher.background ? ', background' : ''})` : 'not running'}\n`);
    if (login) io.stdout.write(`${sanitize(`logged in to ${login.server_url} as ${login.username} (team ${login.team_slug})`)}\n`);
    else io.stdout.write(`sync is off: ${sanitize(loginError ?? 'not logged in')}. Turn it on with \`kitty auth login --server URL\`\n`);
    return 0;
  },
};

type Envelope = QueuedEvent['envelope'];

import { describeWarning, ErrorCode, KittyError } from '../../errors/index.js';
import { resolveIdentity } from '../../identity/index.js';
import { EVENT_STATES, EventQueue, type EventState, type QueuedEvent } from '../../queue/queue.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, painter, printJson, sanitize, warner } from '../output.js';
import { completePendingCaptures } from '../pending.js';

/**
 * The project of the working directory, as its committed config names it; null outside a
 * repository, without a config (an identity made up in memory names no events), or where it cannot
 * be read (said in a warning): every project is listed then, since the queue is what was asked for.
 */
async function currentProject(io: Io): Promise<{ uuid: string | null; slug: string } | null> {
  try {
    const identity = await resolveIdentity({ cwd: io.cwd, env: io.env, write: false, warn: warner(io) });
    return identity.source === 'file' ? { uuid: identity.projectUuid, slug: identity.projectSlug } : null;
  } catch (error) {
    if (!(error instanceof KittyError)) throw error;
    if (error.code !== ErrorCode.NOT_A_REPO && error.code !== ErrorCode.GIT_MISSING)
      io.stderr.write(`kitty: warning: ${sanitize(describeWarning(error))}; listing every project\n`);
    return null;
  }
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
    .join('  ')
    .trimEnd();
}

const HEADER = ['EVENT ID', 'STATE', 'CLOCK', 'WORK PACKAGE', 'MOVE', 'TIME', 'NOTE'];

function cells(envelope: Envelope, state: string, note: string): string[] {
  const p = envelope.payload as { feature_slug?: string; from_lane?: string | null; to_lane?: string };
  return [
    envelope.event_id,
    state,
    String(envelope.lamport_clock),
    `${p.feature_slug}/${envelope.aggregate_id}`,
    `${p.from_lane ?? '∅'} → ${p.to_lane ?? '?'}`,
    envelope.timestamp,
    note,
  ].map(sanitize);
}

export const command: Command = {
  help: `Usage: kitty events list [--state pending|delivered|dead|all] [--limit N] [--all-projects] [--json]

Lists the events in the local queue, oldest first, as a table with a header row: those of the
current repository's project (named by its .kittify/config.yaml), or of every project outside a
repository, in one without a config, or with --all-projects.

Options:
  --state S       pending (default), delivered, dead or all
  --limit N       at most N events
  --all-projects  every project's events, not only this repository's
  --json          a JSON array of event envelopes on stdout, nothing else
  -h, --help      show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(
      argv,
      { state: { type: 'string' }, limit: { type: 'string' }, 'all-projects': { type: 'boolean' }, json: { type: 'boolean' } },
      'kitty events list',
    );
    const state = (values.state ?? 'pending') as EventState | 'all';
    if (state !== 'all' && !EVENT_STATES.includes(state)) {
      throw new KittyError(ErrorCode.USAGE, `kitty events list: unknown --state "${values.state}"`, {
        hint: 'use one of: pending, delivered, dead, all',
      });
    }
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
      throw new KittyError(ErrorCode.USAGE, `kitty events list: --limit must be a positive whole number, got "${values.limit}"`, {
        hint: 'e.g. `kitty events list --limit 20`',
      });
    }
    await completePendingCaptures(io, { repoOptional: true });
    const project = values['all-projects'] ? null : await currentProject(io);
    const queue = EventQueue.open({ env: io.env });
    try {
      const listed = queue.list({ state, limit: project ? undefined : limit });
      for (const row of listed.quarantined) {
        io.stderr.write(
          `kitty: warning: ${ErrorCode.QUEUE_ROW_CORRUPT}: queue row ${row.seq} (${sanitize(row.eventId)}) is unreadable: ${sanitize(row.error)}; quarantined as dead, kept in ${queue.path}\n`,
        );
      }
      const mine = project ? listed.events.filter((event) => event.envelope.project_uuid === project.uuid) : listed.events;
      const events = project && limit !== undefined ? mine.slice(0, limit) : mine;
      if (values.json) {
        printJson(
          io,
          events.map((event) => event.envelope),
        );
        return 0;
      }
      const scope = project ? ` of project ${sanitize(project.slug)} (--all-projects for every project)` : '';
      if (events.length === 0) {
        io.stdout.write(`no ${state === 'all' ? '' : `${state} `}events${scope}\n`);
        return 0;
      }
      const table = events.map(({ envelope, state: rowState, lastError, sendable }) =>
        cells(envelope, rowState, [!sendable ? 'local only' : '', lastError ?? ''].filter(Boolean).join('; ')),
      );
      const widths = HEADER.map((title, i) => Math.max(title.length, ...table.map((cellsOf) => cellsOf[i]!.length)));
      const paint = painter(io.stdout, io.env);
      io.stdout.write(`${paint.bold(row(HEADER, widths))}\n`);
      for (const line of table) io.stdout.write(`${row(line, widths)}\n`);
      return 0;
    } finally {
      queue.close();
    }
  },
};

import { ErrorCode, KittyError } from '../../errors/index.js';
import { EVENT_STATES, EventQueue, type EventState } from '../../queue/queue.js';
import { parse } from '../args.js';
import { completePendingCaptures } from '../pending.js';
import type { Command } from '../command.js';
import { painter, printJson, sanitize, type Io } from '../output.js';

export const command: Command = {
  help: `Usage: kitty events list [--state pending|delivered|dead|all] [--limit N] [--json]

Lists the events in the local queue, oldest first.

Options:
  --state S  pending (default), delivered, dead or all
  --limit N  at most N events
  --json     a JSON array of event envelopes on stdout, nothing else
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(
      argv,
      { state: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
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
    const queue = EventQueue.open({ env: io.env });
    try {
      const { events, quarantined } = queue.list({ state, limit });
      for (const row of quarantined) {
        io.stderr.write(
          `kitty: warning: ${ErrorCode.QUEUE_ROW_CORRUPT}: queue row ${row.seq} (${sanitize(row.eventId)}) is unreadable: ${sanitize(row.error)}; quarantined as dead, kept in ${queue.path}\n`,
        );
      }
      if (values.json) {
        printJson(io, events.map((event) => event.envelope));
        return 0;
      }
      const paint = painter(io.stdout, io.env);
      if (events.length === 0) io.stdout.write(`no ${state === 'all' ? '' : `${state} `}events\n`);
      for (const { envelope, state: rowState, lastError, sendable } of events) {
        const p = envelope.payload as { feature_slug?: string; from_lane?: string | null; to_lane?: string };
        const note = [!sendable ? 'local only' : '', lastError ?? ''].filter(Boolean).join('; ');
        io.stdout.write(
          `${paint.dim(sanitize(envelope.event_id))}  ${rowState.padEnd(9)} ${sanitize(envelope.lamport_clock).padStart(6)}  ${sanitize(`${p.feature_slug}/${envelope.aggregate_id}  ${p.from_lane ?? '∅'} →`)} ${paint.bold(sanitize(p.to_lane ?? '?'))}  ${sanitize(envelope.timestamp)}${note ? `  (${sanitize(note)})` : ''}\n`,
        );
      }
      return 0;
    } finally {
      queue.close();
    }
  },
};

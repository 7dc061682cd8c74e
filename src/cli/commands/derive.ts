import { type CaptureSummary, captureRange } from '../../capture/index.js';
import type { Envelope } from '../../events/envelope.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, progress, sanitize, warner } from '../output.js';
import { completePendingCaptures } from '../pending.js';

/** What was read but is no new move, in one line (never one warning per line). */
function notMoves(summary: CaptureSummary): string {
  const parts: string[] = [];
  if (summary.aliases > 0) parts.push(`${summary.aliases} already captured under another name (re-keyed, moved or backfilled)`);
  if (summary.sameLaneLines > 0) parts.push(`${summary.sameLaneLines} status line${summary.sameLaneLines === 1 ? '' : 's'} with from == to skipped`);
  return parts.length ? `; ${parts.join(', ')}` : '';
}

export const command: Command = {
  help: `Usage: kitty derive [REV-RANGE...] [--dry-run] [--json] [--strict]

Walks commits (default: all of HEAD's history), derives one WPStatusChanged event per lane
transition and queues those not captured before. Running it again queues nothing new.

Examples:
  kitty derive                      catch up the whole history
  kitty derive origin/main..HEAD    only what this branch added
  kitty derive --dry-run --json     print the events instead of queueing them

Options:
  --dry-run  derive only; print the events that would be queued
  --json     JSON on stdout: the events (with --dry-run) or a summary
  --strict   stop on unknown lanes and malformed files instead of warning
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals } = parse(
      argv,
      { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' }, strict: { type: 'boolean' } },
      'kitty derive',
      true,
    );
    const dryRun = Boolean(values['dry-run']);
    if (!dryRun) await completePendingCaptures(io);
    const bar = progress(io, 'kitty derive: commits');
    const events: Envelope[] = [];
    const summary = await captureRange({
      cwd: io.cwd,
      env: io.env,
      revisions: positionals,
      dryRun,
      threaded: 'auto',
      strict: Boolean(values.strict),
      warn: warner(io),
      onProgress: (done) => bar.update(done),
      onEvent: dryRun ? (event) => events.push(event) : undefined,
    });
    bar.done();
    if (dryRun) {
      // printed only once the walk succeeded, so --json output is never a truncated document
      if (values.json) {
        printJson(io, events);
        return 0;
      }
      for (const event of events) {
        const p = event.payload as { feature_slug: string; from_lane: string | null; to_lane: string };
        io.stdout.write(
          `${sanitize(`${event.event_id}  ${p.feature_slug}/${event.aggregate_id}  ${p.from_lane ?? '∅'} → ${p.to_lane}  ${event.timestamp}`)}\n`,
        );
      }
      io.stderr.write(
        `kitty derive: ${summary.commits} commits, ${summary.queued} events would be queued, ${summary.alreadyQueued} already queued${notMoves(summary)}\n`,
      );
      return 0;
    }
    if (values.json) {
      printJson(io, {
        commits: summary.commits,
        transitions: summary.transitions,
        queued: summary.queued,
        already_queued: summary.alreadyQueued,
        aliases: summary.aliases,
        same_lane_lines: summary.sameLaneLines,
      });
    } else {
      io.stdout.write(
        `kitty derive: ${summary.commits} commits, ${summary.queued} events queued, ${summary.alreadyQueued} already queued${notMoves(summary)}\n`,
      );
    }
    return 0;
  },
};

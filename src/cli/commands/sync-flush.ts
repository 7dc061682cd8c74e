import { readCredentials } from '../../auth/credentials.js';
import { RESET_CLOCK_HINT } from '../../clock/repair.js';
import { ErrorCode, KittyError } from '../../errors/index.js';
import { type FlushRun, runFlusher } from '../../flusher/runner.js';
import { EventQueue } from '../../queue/queue.js';
import { fileLogger } from '../../state/log.js';
import { MAX_ENVELOPE_BYTES } from '../../transport/limits.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, progress, sanitize } from '../output.js';
import { completePendingCaptures } from '../pending.js';

/** What to do about the events this run left dead, most specific first. */
function deadAdvice(run: FlushRun): string[] {
  const lines: string[] = [];
  if (run.clockRejected > 0) lines.push(`${run.clockRejected} events were rejected for their Lamport clock: ${RESET_CLOCK_HINT}`);
  if (run.tooLarge > 0)
    lines.push(
      `${run.tooLarge} events are over the ${MAX_ENVELOPE_BYTES}-byte limit of one event and are kept here, never sent: see \`kitty events list --state dead\``,
    );
  if (run.rejected > run.clockRejected)
    lines.push('rejected events are dead letters: see `kitty events list --state dead`, retry with `kitty sync retry-dead`');
  return lines;
}

/** Why events are still pending after a flush, in words (null: nothing sendable is left). */
function whyPending(run: FlushRun, sendable: number, notSendable: number): string | null {
  if (sendable === 0) return notSendable > 0 ? `${notSendable} events have no project_uuid and stay local` : null;
  if (run.busy) return 'another flusher held the queue for the whole timeout';
  if (run.unanswered > 0 && run.stoppedBecause === 'drained')
    return `${run.unanswered} events got no result from the server; they stay pending for the next flush`;
  if (run.stoppedBecause === 'session') return `${run.lastError}; run \`kitty auth login\``;
  return run.lastError ?? `stopped: ${run.stoppedBecause}`;
}

export const command: Command = {
  help: `Usage: kitty sync flush [--timeout S] [--json]

Sends every pending event to the server now, in the foreground, retrying with backoff until the
timeout. Shows progress on stderr (terminal only) and a summary: delivered, duplicate, rejected,
still pending and why. Exits 0 only when nothing sendable is left.

Options:
  --timeout S  give up after S seconds (default 60)
  --json       print the summary as JSON
  -h, --help   show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { timeout: { type: 'string' }, json: { type: 'boolean' } }, 'kitty sync flush');
    const timeout = values.timeout === undefined ? 60 : Number(values.timeout);
    if (!Number.isFinite(timeout) || timeout <= 0) {
      throw new KittyError(ErrorCode.USAGE, `kitty sync flush: --timeout must be a positive number of seconds, got "${values.timeout}"`, {
        hint: 'e.g. `kitty sync flush --timeout 30`',
      });
    }
    if (!readCredentials(io.env)) {
      throw new KittyError(ErrorCode.NOT_LOGGED_IN, 'not logged in: events stay queued locally', {
        hint: 'run `kitty auth login --server URL`, then `kitty sync flush`',
      });
    }
    await completePendingCaptures(io, { repoOptional: true });
    const queue = EventQueue.open({ env: io.env });
    const total = queue.counts().pending;
    queue.close();
    const bar = progress(io, 'kitty sync flush', total);
    const run = await runFlusher({
      env: io.env,
      mode: 'foreground',
      timeoutMs: timeout * 1000,
      log: fileLogger('flusher', io.env),
      onProgress: (summary) => bar.update(summary.delivered + summary.duplicate + summary.rejected),
    });
    bar.done();
    const after = EventQueue.open({ env: io.env });
    const counts = after.counts();
    const stats = after.stats();
    after.close();
    const sendable = counts.pending - stats.notSendable;
    const why = whyPending(run, sendable, stats.notSendable);
    const result = {
      delivered: run.delivered,
      duplicate: run.duplicate,
      rejected: run.rejected,
      too_large: run.tooLarge,
      pending: counts.pending,
      dead: counts.dead,
      transport: run.transport,
      why_pending: why,
    };
    for (const line of run.warnings) io.stderr.write(`kitty: warning: ${sanitize(line)}\n`);
    if (values.json) printJson(io, result);
    else {
      io.stdout.write(
        `kitty sync flush: ${run.delivered} delivered, ${run.duplicate} duplicate, ${run.rejected} rejected; ${counts.pending} still pending${why ? ` (${sanitize(why)})` : ''}\n`,
      );
      for (const line of deadAdvice(run)) io.stdout.write(`${line}\n`);
    }
    return sendable === 0 ? 0 : 1;
  },
};

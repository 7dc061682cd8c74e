import { type RestampResult, restamp, withQueueDb } from '../../clock/repair.js';
import { ErrorCode, KittyError } from '../../errors/index.js';
import { flusherLockPath, runningFlusher, startFlusherDetached } from '../../flusher/launch.js';
import { machineNodeId } from '../../identity/node-id.js';
import { EventQueue } from '../../queue/queue.js';
import { LockTimeoutError, withFileLock } from '../../state/lock.js';
import type { Env } from '../../state/paths.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson } from '../output.js';

/** Holding the flusher's lock keeps a flush from sending an event while its stamp changes. */
async function underFlusherLock<T>(env: Env, fn: () => T): Promise<T> {
  try {
    return await withFileLock(flusherLockPath(env), fn, { timeoutMs: 30_000, staleMs: 24 * 3600_000, tag: 'foreground' });
  } catch (error) {
    if (!(error instanceof LockTimeoutError)) throw error;
    const pid = runningFlusher(env)?.pid;
    throw new KittyError(ErrorCode.QUEUE_LOCKED, `a flusher${pid ? ` (pid ${pid})` : ''} held the queue for 30 s`, {
      hint: `wait for it to finish${pid ? ` or stop it (\`kill ${pid}\`)` : ''}, then run \`kitty sync reset-clock\` again`,
    });
  }
}

function summaryLine(result: RestampResult, nodeId: string): string {
  const clock = result.clocks.find((entry) => entry.nodeId === nodeId) ?? result.clocks[0];
  const moved = clock ? `this machine's Lamport clock went from ${clock.before} to ${clock.after}` : "this machine's Lamport clock was reset";
  const revived = result.revived > 0 ? `, ${result.revived} of them rejected before and pending again` : '';
  return `kitty: ${moved}; ${result.restamped} unsent events restamped${revived}${result.restamped > 0 ? '; the next flush sends them (`kitty sync flush`)' : ''}`;
}

export const command: Command = {
  help: `Usage: kitty sync reset-clock [--json]

The way out of a poisoned Lamport clock: when the server rejects events for their lamport_clock
(this machine adopted an absurd clock from a server, or from another team's), this restarts the
clock from the highest value the server accepted from this machine, forgetting every server clock
adopted since, and gives every unsent event a fresh value from it: the pending events, and the
events rejected for their clock, which are pending again. Event ids do not change, so an event the
server already holds is answered "duplicate". The next server answer moves the clock forward
again, within bounds (a server clock more than a billion ahead, or above 2^48, is never adopted).

Options:
  --json     print {restamped, revived, clocks: [{node_id, before, after}]} as JSON
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { json: { type: 'boolean' } }, 'kitty sync reset-clock');
    const queue = EventQueue.open({ env: io.env });
    const path = queue.path;
    queue.close();
    const nodeId = machineNodeId();
    const result = await underFlusherLock(io.env, () => withQueueDb(path, (db) => restamp(db, 'unsent', [nodeId])));
    if (result.restamped > 0) startFlusherDetached(io.env);
    if (values.json) {
      printJson(io, {
        restamped: result.restamped,
        revived: result.revived,
        clocks: result.clocks.map((clock) => ({ node_id: clock.nodeId, before: clock.before, after: clock.after })),
      });
    } else {
      io.stdout.write(`${summaryLine(result, nodeId)}\n`);
    }
    return 0;
  },
};

import { startFlusherDetached } from '../../flusher/launch.js';
import { EventQueue } from '../../queue/queue.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson } from '../output.js';

export const command: Command = {
  help: `Usage: kitty sync retry-dead [EVENT_ID...] [--json]

Moves dead events (all, or the given ones) back to pending so the next flush sends them again.
Rows quarantined as unreadable stay dead.

Options:
  --json     print {moved} as JSON
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, 'kitty sync retry-dead', true);
    const queue = EventQueue.open({ env: io.env });
    let moved: number;
    try {
      moved = queue.retryDead(positionals);
    } finally {
      queue.close();
    }
    if (moved > 0) startFlusherDetached(io.env);
    if (values.json) printJson(io, { moved });
    else io.stdout.write(`kitty: ${moved} dead events are pending again\n`);
    return 0;
  },
};

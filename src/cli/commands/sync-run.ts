import { runFlusher, stopOnSigterm } from '../../flusher/runner.js';
import { fileLogger } from '../../state/log.js';
import type { Command } from '../command.js';
import type { Io } from '../output.js';

export const command: Command = {
  help: `Usage: kitty sync run

Internal: the background flusher the hooks start. Drains the queue, exits when idle, logs to
$KITTY_HOME/logs/flusher.log.`,
  async run(_argv: string[], io: Io): Promise<number> {
    const log = fileLogger('flusher', io.env);
    const stop = stopOnSigterm();
    try {
      await runFlusher({ env: io.env, mode: 'background', timeoutMs: 10 * 60_000, log, stop: stop.signal });
      if (stop.signal.aborted) log('stopped: another flusher took over');
    } catch (error) {
      log(`flusher failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    } finally {
      stop.dispose();
    }
    return 0;
  },
};

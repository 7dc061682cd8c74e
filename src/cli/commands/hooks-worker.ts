import { join } from 'node:path';
import { startFlusherDetached } from '../../flusher/launch.js';
import { processPendingRequests } from '../../hooks/worker.js';
import { describeError, isKittyError } from '../../errors/index.js';
import { readConfig } from '../../identity/config-file.js';
import { fileLogger } from '../../state/log.js';
import type { Command } from '../command.js';
import { sanitize, type Io } from '../output.js';

/** sync.auto_start in the project's config (default true). */
function autoStart(root: string): boolean {
  try {
    const read = readConfig(join(root, '.kittify', 'config.yaml'));
    return read.kind !== 'ok' || read.values.autoStart;
  } catch {
    return true;
  }
}

export const command: Command = {
  help: `Usage: kitty hooks worker

Internal: run by kitty's git hooks in the background. Turns recorded capture requests into queued
events, then starts the background flusher (when logged in and sync.auto_start is not false) and
exits. Logs to $KITTY_HOME/logs/hooks.log. Always exits 0: a git command never fails
because of kitty; what it could not do stays recorded and the next run completes it.`,
  async run(_argv: string[], io: Io): Promise<number> {
    const file = fileLogger('hooks', io.env);
    // warnings from derivation already start with "kitty:"; log lines do not
    const log = io.env.KITTY_HOOK_SYNC === '1' ? (line: string) => (file(line), io.stderr.write(`${line.startsWith('kitty: ') ? '' : 'kitty: '}${sanitize(line)}\n`)) : file;
    try {
      const result = await processPendingRequests({ cwd: process.cwd(), env: io.env, log });
      if (result.queued > 0 && autoStart(result.root) && startFlusherDetached(io.env)) log('started the background flusher');
    } catch (error) {
      // the request stays recorded: the next hook run or kitty command completes the capture
      log(`capture postponed: ${isKittyError(error) ? describeError(error) : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    return 0;
  },
};

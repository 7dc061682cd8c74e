import { processPendingRequests } from '../../hooks/worker.js';
import { fileLogger } from '../../state/log.js';
import type { Command } from '../command.js';
import type { Io } from '../output.js';

export const command: Command = {
  help: `Usage: kitty hooks worker

Internal: run by kitty's git hooks in the background. Turns recorded capture requests into queued
events, then exits. Logs to $KITTY_HOME/logs/hooks.log. Always exits 0: a git command never fails
because of kitty; what it could not do stays recorded and the next run completes it.`,
  async run(_argv: string[], io: Io): Promise<number> {
    const file = fileLogger('hooks', io.env);
    const log = io.env.KITTY_HOOK_SYNC === '1' ? (line: string) => (file(line), io.stderr.write(`kitty: ${line}\n`)) : file;
    try {
      await processPendingRequests({ cwd: process.cwd(), env: io.env, log });
    } catch (error) {
      log(`worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
    return 0;
  },
};

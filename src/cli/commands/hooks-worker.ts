import { join } from 'node:path';
import { describeError, isKittyError } from '../../errors/index.js';
import { startFlusherDetached } from '../../flusher/launch.js';
import type { RepoInfo } from '../../git/repo.js';
import { kittyDirOf } from '../../hooks/location.js';
import { clearProblem, problemLine, writeProblem } from '../../hooks/problem.js';
import { processPendingRequests } from '../../hooks/worker.js';
import { readConfig } from '../../identity/config-file.js';
import { fileLogger } from '../../state/log.js';
import { readSyncRecord } from '../../state/sync-record.js';
import type { Command } from '../command.js';
import { type Io, sanitize } from '../output.js';

/** sync.auto_start in the project's config (default true). */
function autoStart(root: string): boolean {
  try {
    const read = readConfig(join(root, '.kittify', 'config.yaml'));
    return read.kind !== 'ok' || read.values.autoStart;
  } catch {
    return true;
  }
}

/** Leaves the problem for the next hook to print, or removes the last one once a capture went clean. */
function report(repo: RepoInfo | null, line: string | null, log: (line: string) => void): void {
  if (!repo) return;
  try {
    if (line === null) clearProblem(kittyDirOf(repo));
    else writeProblem(kittyDirOf(repo), sanitize(line));
  } catch (error) {
    log(`could not record the problem for the next hook run: ${(error as Error).message}`);
  }
}

export const command: Command = {
  help: `Usage: kitty hooks worker

Internal: run by kitty's git hooks in the background. Turns recorded capture requests into queued
events, then starts the background flusher (when logged in and sync.auto_start is not false) when
it queued events or earlier ones still wait for a server that was down, and exits. Logs to
$KITTY_HOME/logs/hooks.log; a problem it meets (a malformed WP file, an unknown lane, a state dir it
cannot write) is also written to <git common dir>/kitty/problem, which the next git command's hook
prints in one line. Always exits 0: a git command never fails because of kitty; what it could not
do stays recorded and the next run completes it.`,
  async run(_argv: string[], io: Io): Promise<number> {
    const file = fileLogger('hooks', io.env);
    const foreground = io.env.KITTY_HOOK_SYNC === '1';
    const warnings: string[] = [];
    // warnings from derivation already start with "kitty:"; log lines do not
    const log = (line: string): void => {
      // an amend captures its commit twice: one problem, not two
      if (line.startsWith('kitty: warning:') && !warnings.includes(line)) warnings.push(line);
      file(line);
      if (foreground) io.stderr.write(`${line.startsWith('kitty: ') ? '' : 'kitty: '}${sanitize(line)}\n`);
    };
    let repo: RepoInfo | null = null;
    try {
      const result = await processPendingRequests({ cwd: io.cwd, env: io.env, log, onRepo: (found) => (repo = found) });
      // in the foreground the user has just read the warnings; a busy or idle run learnt nothing new
      if (!result.busy && result.requests > 0) report(repo, foreground ? null : problemLine(warnings, null), log);
      const waiting = result.queued > 0 || readSyncRecord(io.env)?.pending === true;
      if (waiting && autoStart(result.root) && startFlusherDetached(io.env)) log('started the background flusher');
    } catch (error) {
      // the request stays recorded: the next hook run or kitty command completes the capture
      const reason = isKittyError(error) ? describeError(error) : error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`capture postponed: ${reason}`);
      if (!foreground) report(repo, problemLine(warnings, reason.split('\n', 1)[0]!), log);
    }
    return 0;
  },
};

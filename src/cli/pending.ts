import { describeWarning, isKittyError } from '../errors/index.js';
import { fileLogger } from '../state/log.js';
import { type Io, sanitize } from './output.js';

/**
 * Commands that read or fill the queue first complete capture requests a hook recorded but whose
 * worker has not run (killed, skipped), so what they show is whole. Outside a repository there is
 * nothing to complete. `repoOptional`: the command is about the queue, not the repository, so a
 * repository kitty cannot capture in is a warning rather than the command's failure.
 */
export async function completePendingCaptures(io: Io, options: { repoOptional?: boolean } = {}): Promise<void> {
  try {
    // loaded here, not with the command: a dry run never needs the capture machinery's SQLite
    const { processPendingRequests } = await import('../hooks/worker.js');
    await processPendingRequests({ cwd: io.cwd, env: io.env, log: fileLogger('hooks', io.env), waitMs: 5_000 });
  } catch (error) {
    if (isKittyError(error) && (error.code === 'KITTY_ERR_NOT_A_REPO' || error.code === 'KITTY_ERR_GIT_MISSING')) return;
    if (options.repoOptional && isKittyError(error) && error.code === 'KITTY_ERR_REPO_PATH_UNSUPPORTED') {
      io.stderr.write(`kitty: warning: ${sanitize(describeWarning(error))}; capture skipped\n`);
      return;
    }
    throw error;
  }
}

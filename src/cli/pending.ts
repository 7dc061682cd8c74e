import { describeWarning, isKittyError } from '../errors/index.js';
import { repoInfo } from '../git/repo.js';
import { kittyDirOf } from '../hooks/location.js';
import { listRequests } from '../hooks/requests.js';
import { assertLinePaths } from '../identity/repo-path.js';
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
    const repo = await repoInfo(io.cwd, io.env);
    await assertLinePaths(repo, io.cwd, io.env);
    // most of the time nothing waits, and the capture machinery (SQLite, YAML, derive) is not loaded
    if (listRequests(kittyDirOf(repo)).length === 0) return;
    const { processPendingRequests } = await import('../hooks/worker.js');
    await processPendingRequests({ cwd: io.cwd, env: io.env, log: fileLogger('hooks', io.env), waitMs: 5_000, repo });
  } catch (error) {
    if (isKittyError(error) && (error.code === 'KITTY_ERR_NOT_A_REPO' || error.code === 'KITTY_ERR_GIT_MISSING')) return;
    if (options.repoOptional && isKittyError(error) && error.code === 'KITTY_ERR_REPO_PATH_UNSUPPORTED') {
      io.stderr.write(`kitty: warning: ${sanitize(describeWarning(error))}; capture skipped\n`);
      return;
    }
    throw error;
  }
}

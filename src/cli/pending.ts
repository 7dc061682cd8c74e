import { isKittyError } from '../errors/index.js';
import { processPendingRequests } from '../hooks/worker.js';
import { fileLogger } from '../state/log.js';
import type { Io } from './output.js';

/**
 * Commands that read or fill the queue first complete capture requests a hook recorded but whose
 * worker has not run (killed, skipped), so what they show is whole. Outside a repository there is
 * nothing to complete.
 */
export async function completePendingCaptures(io: Io): Promise<void> {
  try {
    await processPendingRequests({ cwd: process.cwd(), env: io.env, log: fileLogger('hooks', io.env), waitMs: 5_000 });
  } catch (error) {
    if (isKittyError(error) && (error.code === 'KITTY_ERR_NOT_A_REPO' || error.code === 'KITTY_ERR_GIT_MISSING')) return;
    throw error;
  }
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../errors/index.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { runGit } from '../git/run.js';

/**
 * The commits capture has covered, as the few tips from which they are all reachable. New work is
 * `HEAD --not <tips>`: commits made while hooks were off, or whose worker died, are caught up by
 * the next run. Losing a tip costs only re-derivation, which the queue dedupes.
 */
const MAX_TIPS = 100;

function tipsPath(kittyDir: string): string {
  return join(kittyDir, 'tips');
}

/** The recorded tips; null when capture has never run in this repository. */
export function readTips(kittyDir: string): string[] | null {
  try {
    return readFileSync(tipsPath(kittyDir), 'utf8')
      .split('\n')
      .filter((line) => /^[0-9a-f]{40,64}$/.test(line));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
}

/** Adds `heads` and keeps only tips not reachable from another (one git call). */
export async function recordTips(kittyDir: string, heads: readonly string[], root: string, env: NodeJS.ProcessEnv): Promise<void> {
  const candidates = [...new Set([...heads, ...(readTips(kittyDir) ?? [])])];
  let tips = candidates;
  if (candidates.length > 1) {
    const existing: string[] = [];
    const check = await runGit(['cat-file', '--batch-check=%(objectname) %(objecttype)', '--buffer'], { cwd: root, env, input: `${candidates.join('\n')}\n` });
    for (const line of check.stdout.split('\n')) {
      const [sha, type] = line.split(' ');
      if (type === 'commit' && sha) existing.push(sha);
    }
    tips = existing.length > 1 ? (await runGit(['merge-base', '--independent', ...existing], { cwd: root, env })).stdout.split('\n').filter(Boolean) : existing;
  }
  writeFileAtomic(tipsPath(kittyDir), tips.length ? `${tips.slice(0, MAX_TIPS).join('\n')}\n` : '');
}

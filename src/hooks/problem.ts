import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';

/**
 * The background worker has nobody to tell: a problem it meets is written here (one line), and the
 * hook stub of the next git command prints it with shell builtins alone. The next capture that
 * meets no problem removes it, and so does `kitty doctor` once it has shown it.
 */
const PROBLEM_FILE = 'problem';
/** The stub prints the problem once per git command: it writes here the pid of the git that printed it. */
const PROBLEM_SHOWN_FILE = 'problem.shown';

const MAX_CHARS = 300;

function problemPath(kittyDir: string): string {
  return join(kittyDir, PROBLEM_FILE);
}

/** Pure: the line the stub prints, from what the worker met (warnings in the order met, or its failure). */
export function problemLine(warnings: readonly string[], failure: string | null): string | null {
  const first = failure ?? warnings[0];
  if (first === undefined) return null;
  const others = failure ? warnings.length : warnings.length - 1;
  const text = first
    .replace(/^kitty: (warning: )?/, '')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS - 1)}…` : text;
  return `${failure ? 'capture postponed: ' : ''}${cut}${others > 0 ? ` (and ${others} more)` : ''}`;
}

export function writeProblem(kittyDir: string, line: string): void {
  writeFileAtomic(problemPath(kittyDir), `${line}\n`);
  rmSync(join(kittyDir, PROBLEM_SHOWN_FILE), { force: true });
}

export function readProblem(kittyDir: string): string | null {
  try {
    return readFileSync(problemPath(kittyDir), 'utf8').split('\n', 1)[0] || null;
  } catch {
    return null;
  }
}

export function clearProblem(kittyDir: string): void {
  rmSync(problemPath(kittyDir), { force: true });
  rmSync(join(kittyDir, PROBLEM_SHOWN_FILE), { force: true });
}

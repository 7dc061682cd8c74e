import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Env, stateDir } from './paths.js';

const MAX_BYTES = 1 << 20;

/**
 * A line logger for background work (hook worker, flusher) whose output nobody sees: it appends to
 * `<state dir>/logs/<name>.log`, keeping one rotated file, and never throws.
 */
export function fileLogger(name: string, env: Env): (line: string) => void {
  const dir = join(stateDir(env), 'logs');
  const path = join(dir, `${name}.log`);
  return (line) => {
    try {
      mkdirSync(dir, { recursive: true });
      try {
        if (statSync(path).size > MAX_BYTES) renameSync(path, `${path}.1`);
      } catch {
        // no log yet
      }
      appendFileSync(path, `${new Date().toISOString()} [${process.pid}] ${line}\n`);
    } catch {
      // logging must never break the worker
    }
  };
}

import module from 'node:module';
import { join } from 'node:path';
import { stateDir } from '../state/paths.js';

/**
 * Node >= 22.1 can keep compiled code between runs, which is most of a short command's start-up
 * (the hook worker's above all). Older Node has no such function and runs as before.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv): void {
  const enable = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
  if (typeof enable !== 'function' || env.NODE_DISABLE_COMPILE_CACHE) return;
  try {
    enable(join(stateDir(env), 'compile-cache'));
  } catch {
    // a cache it cannot write only costs speed
  }
}

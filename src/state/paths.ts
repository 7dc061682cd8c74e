import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, KittyError } from '../errors/index.js';

export type Env = Record<string, string | undefined>;

/** `$KITTY_HOME`, else `$XDG_STATE_HOME/kitty`, else `~/.local/state/kitty` (docs/architecture.md). */
export function stateDir(env: Env): string {
  if (env.KITTY_HOME) return env.KITTY_HOME;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'kitty');
  return join(homedir(), '.local', 'state', 'kitty');
}

export function ensureStateDir(env: Env): string {
  const dir = stateDir(env);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new KittyError(ErrorCode.STATE_DIR, `cannot create the kitty state dir ${dir}`, {
      cause,
      hint: 'set KITTY_HOME to a writable directory, e.g. `export KITTY_HOME=$HOME/.kitty`',
    });
  }
  return dir;
}

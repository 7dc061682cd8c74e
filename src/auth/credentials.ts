import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCode, errnoCode, KittyError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Env } from '../state/paths.js';

/** What `kitty auth login` stores. Tokens never leave this file: not in logs, errors or --json. */
export interface Credentials {
  server_url: string;
  username: string;
  team_slug: string;
  access: string;
  /** Epoch ms. */
  access_expires_at: number;
  refresh: string;
  refresh_expires_at: number;
}

/** `$KITTY_HOME/credentials.json`, else `$XDG_CONFIG_HOME/kitty/…`, else `~/.config/kitty/…`. */
export function credentialsPath(env: Env): string {
  if (env.KITTY_HOME) return join(env.KITTY_HOME, 'credentials.json');
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'kitty', 'credentials.json');
}

export function readCredentials(env: Env): Credentials | null {
  const path = credentialsPath(env);
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw new KittyError(ErrorCode.CREDENTIALS_UNREADABLE, `cannot read the credentials file ${path} (${errnoCode(error) ?? 'error'})`, {
      cause: error,
      hint: 'run `kitty auth login` again',
    });
  }
  if (mode & 0o077) {
    throw new KittyError(
      ErrorCode.CREDENTIALS_INSECURE,
      `the credentials file ${path} can be read by others (mode ${mode.toString(8).padStart(4, '0')}); refusing to use it`,
      {
        hint: `run \`chmod 600 ${path}\`, or \`kitty auth logout\` and log in again`,
      },
    );
  }
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<Credentials>;
    if (typeof value.access !== 'string' || typeof value.refresh !== 'string' || typeof value.server_url !== 'string') throw new Error('missing fields');
    return value as Credentials;
  } catch (cause) {
    throw new KittyError(ErrorCode.CREDENTIALS_UNREADABLE, `the credentials file ${path} is not valid kitty credentials`, {
      cause,
      hint: 'run `kitty auth login` again',
    });
  }
}

export function writeCredentials(credentials: Credentials, env: Env): string {
  const path = credentialsPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  rmSync(path, { force: true });
  writeFileAtomic(path, `${JSON.stringify(credentials, null, 2)}\n`, 0o600);
  return path;
}

export function deleteCredentials(env: Env): boolean {
  const path = credentialsPath(env);
  try {
    rmSync(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

import { readFileSync } from 'node:fs';

export interface UserSpec {
  username: string;
  password: string;
  team: string;
}

class UserSpecError extends Error {
  readonly code = 'KITTY_SERVER_USER_PASSWORD';
}

/**
 * `--user NAME:env:VAR:TEAM` and `--user NAME:file:PATH:TEAM` take the password from an environment
 * variable or a file, so it never appears in the process list (`ps` shows every argument). Any
 * other password is taken as written, as before.
 */
export function resolvePassword(spec: UserSpec, env: NodeJS.ProcessEnv): UserSpec {
  const { password } = spec;
  if (password.startsWith('env:')) {
    const name = password.slice(4);
    const value = env[name];
    if (!value) throw new UserSpecError(`--user ${spec.username}: the environment variable ${name} is not set or empty`);
    return { ...spec, password: value };
  }
  if (password.startsWith('file:')) {
    const path = password.slice(5);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UserSpecError(
        `--user ${spec.username}: cannot read the password file ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    // editors and `echo` end files with a newline that is no part of the password
    const value = text.replace(/\r?\n$/, '');
    if (!value) throw new UserSpecError(`--user ${spec.username}: the password file ${path} is empty`);
    return { ...spec, password: value };
  }
  return spec;
}

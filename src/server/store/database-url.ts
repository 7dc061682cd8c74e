/** A database the server cannot use: `code` says whether the URL is wrong or the database did not answer. */
export class DatabaseError extends Error {
  constructor(
    readonly code: 'KITTY_SERVER_DATABASE_URL' | 'KITTY_SERVER_DATABASE_UNREACHABLE',
    message: string,
  ) {
    super(message);
  }
}

/** The URL as it may be shown: never the password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** A postgres:// or postgresql:// URL naming a host and a database, or a DatabaseError saying what it should be. */
export function checkUrl(url: string): void {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below with the same message as a wrong scheme
  }
  if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol) || !parsed.hostname || parsed.pathname.length <= 1) {
    throw new DatabaseError(
      'KITTY_SERVER_DATABASE_URL',
      `--database must be postgres://USER:PASSWORD@HOST:PORT/DATABASE (or postgresql://), got "${redactUrl(url)}"`,
    );
  }
}

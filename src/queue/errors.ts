import { ErrorCode, KittyError } from '../errors/index.js';

function sqliteCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
  }
  return undefined;
}

/** Turns SQLite failures into KittyErrors a user can act on; anything else is rethrown as a bug. */
export function queueError(error: unknown, dbPath: string): unknown {
  const code = sqliteCode(error);
  if (!code) return error;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new KittyError(ErrorCode.QUEUE_LOCKED, `the event queue ${dbPath} stayed locked past the timeout (${code})`, {
      cause: error,
      hint: `another kitty process holds it; retry, or find the holder with \`fuser ${dbPath}\``,
    });
  }
  return new KittyError(ErrorCode.QUEUE_UNAVAILABLE, `cannot use the event queue ${dbPath} (${code})`, {
    cause: error,
    hint: `check that ${dbPath} is a readable, writable kitty queue; KITTY_HOME selects another state dir`,
  });
}

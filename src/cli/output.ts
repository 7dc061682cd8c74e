import type { Readable, Writable } from 'node:stream';

/**
 * Everything a command reads from or writes to its process, passed in rather than taken from
 * `process`, so one command can run inside another program (the tests run most commands in-process).
 */
export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: NodeJS.ProcessEnv;
  /** The directory the command runs in (the repository it acts on is found from here). */
  cwd: string;
}

export function defaultIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function painter(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv) {
  const on = useColor(stream, env);
  const wrap = (open: number, close: number) => (text: string) => (on ? `\x1b[${open}m${text}\x1b[${close}m` : text);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };
}

/** stdout carries only the command's result: with --json, exactly one JSON document. */
export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Repository data (lanes, titles, author names, feature slugs, file content quoted in warnings) and
 * server answers can hold control characters and escape sequences a terminal would obey: retitle
 * the window, clear the screen, move the cursor over earlier lines, reverse the text direction.
 * Each one is shown as a visible escape instead, so what a user reads is what the data says; a
 * newline too, or one value could forge a whole line of output. JSON output never needs this:
 * JSON.stringify escapes control characters itself.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what the sanitizer escapes
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function sanitize(text: unknown): string {
  return String(text).replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    return NAMED[char] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

/** Warnings quote repository data: each is one sanitized line on stderr. */
export function warner(io: Io): (line: string) => void {
  return (line) => io.stderr.write(`${sanitize(line)}\n`);
}

const BAR_WIDTH = 30;

/** `done/total` as a bar of # and . when the total is known, else the count alone. */
function progressText(done: number, total: number | undefined): string {
  if (!total) return String(done);
  const filled = Math.min(BAR_WIDTH, Math.round((done / total) * BAR_WIDTH));
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total}`;
}

/**
 * The one progress renderer: a line on stderr that rewrites itself at most every 100 ms, silent
 * unless stderr is a terminal, so stdout (and `--json`) never holds any of it.
 */
export function progress(io: Io, label: string, total?: number) {
  const enabled = Boolean(io.stderr.isTTY);
  let last = 0;
  return {
    update(done: number): void {
      const now = Date.now();
      // the last step is always drawn: a bar never stops short of its total
      if (!enabled || (now - last < 100 && done !== total)) return;
      last = now;
      io.stderr.write(`\r${label}: ${progressText(done, total)}`);
    },
    done(): void {
      if (enabled && last > 0) io.stderr.write('\r\x1b[K');
    },
  };
}

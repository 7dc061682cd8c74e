import type { Writable } from 'node:stream';

export interface Io {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export function defaultIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
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

export function warner(io: Io): (line: string) => void {
  return (line) => io.stderr.write(`${line}\n`);
}

/** A progress line on stderr that rewrites itself; silent unless stderr is a terminal. */
export function progress(io: Io, label: string, total?: number) {
  const enabled = Boolean(io.stderr.isTTY);
  let last = 0;
  return {
    update(done: number): void {
      const now = Date.now();
      if (!enabled || now - last < 100) return;
      last = now;
      io.stderr.write(`\r${label}: ${done}${total ? `/${total}` : ''}`);
    },
    done(): void {
      if (enabled && last > 0) io.stderr.write('\r\x1b[K');
    },
  };
}

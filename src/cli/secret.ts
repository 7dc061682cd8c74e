import type { Io } from './output.js';

/** A secret from stdin: the first line when piped, or a prompt (on stderr, not echoed) on a TTY. */
export async function readSecret(prompt: string, io: Io): Promise<string> {
  const { stdin } = io;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += (chunk as Buffer).toString('utf8');
    return text.split(/\r?\n/)[0] ?? '';
  }
  io.stderr.write(prompt);
  stdin.setRawMode?.(true);
  return new Promise((resolve) => {
    let value = '';
    const onData = (data: Buffer): void => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          stdin.setRawMode?.(false);
          stdin.off('data', onData);
          stdin.pause();
          io.stderr.write('\n');
          resolve(value);
          return;
        }
        if (char === '\u0003') process.exit(130);
        value = char === '\u007f' ? value.slice(0, -1) : value + char;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

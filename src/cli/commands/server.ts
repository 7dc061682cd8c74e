import { join } from 'node:path';
import { ErrorCode, KittyError } from '../../errors/index.js';
import { isLoopbackHost } from '../../net/loopback.js';
import { packageVersion } from '../../package.js';
import { startServer } from '../../server/app.js';
import { stateDir } from '../../state/paths.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import type { Io } from '../output.js';

function parseUser(spec: string): { username: string; password: string; team: string } {
  const first = spec.indexOf(':');
  const last = spec.lastIndexOf(':');
  if (first <= 0 || last === first || last === spec.length - 1) {
    throw new KittyError(ErrorCode.USAGE, `kitty server: --user must be NAME:PASSWORD:TEAM, got "${spec.split(':')[0]}:…"`, {
      hint: 'e.g. `kitty server --user demo:demo-pass:acme`',
    });
  }
  return { username: spec.slice(0, first), password: spec.slice(first + 1, last), team: spec.slice(last + 1) };
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) {
    throw new KittyError(ErrorCode.USAGE, `kitty server: ${flag} must be a whole number, got "${value}"`, { hint: 'see `kitty server --help`' });
  }
  return number;
}

export const command: Command = {
  help: `Usage: kitty server [--host 127.0.0.1] [--port 8787|0] [--data DIR] [--user NAME:PASSWORD:TEAM]...

The reference sync server: the whole API and WebSocket of the contract in one process, storing
users, tokens and events in SQLite under --data. The first line of stdout is its URL:
  kitty server: listening on http://127.0.0.1:PORT
Stop it with Ctrl-C (SIGINT) or SIGTERM.

Options:
  --host H             address to bind (default 127.0.0.1); a non-loopback address needs TLS
  --port N             port (default 8787; 0 picks a free one)
  --data DIR           where the database lives (default $KITTY_HOME/server)
  --user N:P:T         create or update user N with password P in team T at start (local use)
  --tls-cert FILE      serve https/wss with this certificate …
  --tls-key FILE       … and key
  --access-lifetime S  access token lifetime in seconds (default 900)
  -h, --help           show this help

Users: \`kitty server user add NAME --team SLUG --data DIR\` (password from stdin).`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(
      argv,
      {
        host: { type: 'string' },
        port: { type: 'string' },
        data: { type: 'string' },
        user: { type: 'string', multiple: true },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'access-lifetime': { type: 'string' },
      },
      'kitty server',
    );
    const host = values.host ?? '127.0.0.1';
    const tls = values['tls-cert'] && values['tls-key'] ? { cert: values['tls-cert'], key: values['tls-key'] } : undefined;
    if (!isLoopbackHost(host) && !tls) {
      throw new KittyError(ErrorCode.SERVER_INSECURE_HOST, `refusing to serve plain http on the non-loopback address ${host}`, {
        hint: 'bind 127.0.0.1, or give --tls-cert FILE --tls-key FILE',
      });
    }
    const users = (values.user ?? []).map(parseUser);
    let server;
    try {
      server = await startServer({
        host,
        port: positiveInt(values.port, '--port', 8787),
        dataDir: values.data ?? join(stateDir(io.env), 'server'),
        users,
        tls,
        accessLifetime: positiveInt(values['access-lifetime'], '--access-lifetime', 900) || 900,
        version: packageVersion(),
        log: (line) => io.stderr.write(`kitty server: ${line}\n`),
      });
    } catch (cause) {
      throw new KittyError(ErrorCode.SERVER_START, `cannot start the server on ${host}:${values.port ?? 8787}: ${(cause as Error).message}`, {
        cause,
        hint: 'pick another port with --port (0 picks a free one)',
      });
    }
    io.stdout.write(`kitty server: listening on ${server.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};

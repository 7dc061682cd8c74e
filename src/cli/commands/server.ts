import { isIP } from 'node:net';
import { join } from 'node:path';
import { ErrorCode, KittyError } from '../../errors/index.js';
import { isLoopbackHost } from '../../net/loopback.js';
import { packageVersion } from '../../package.js';
import { startServer } from '../../server/app.js';
import { DEFAULT_LIMITS, LIMITS_ENV } from '../../server/limits.js';
import { stateDir } from '../../state/paths.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import type { Io } from '../output.js';
import { DATABASE_ENV, databaseError, databaseUrl } from './server-migrate.js';

function parseUser(spec: string): { username: string; password: string; team: string } {
  const first = spec.indexOf(':');
  const last = spec.lastIndexOf(':');
  if (first <= 0 || last === first || last === spec.length - 1) {
    throw new KittyError(
      ErrorCode.USAGE,
      `kitty server: --user must be NAME:PASSWORD:TEAM, NAME:env:VAR:TEAM or NAME:file:PATH:TEAM, got "${spec.split(':')[0]}:…"`,
      {
        hint: 'e.g. `kitty server --user demo:env:DEMO_PASSWORD:acme`',
      },
    );
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

/** The limit names and defaults, read from the server itself so the help never drifts from it. */
function limitsHelp(): string {
  return Object.entries(DEFAULT_LIMITS)
    .map(([name, value]) => `    ${name.padEnd(28)} ${value}`)
    .join('\n')
    .replace(/^/, `  names and defaults (bytes, ms or counts, as the name says):\n`);
}

/** The startServer failures a user can fix, by the stable code the server gives them. */
function startError(cause: unknown, host: string, port: string): KittyError {
  const code = (cause as { code?: unknown })?.code;
  const message = (cause as Error)?.message ?? String(cause);
  const database = databaseError(cause, 'cannot start the server');
  if (database) return database;
  switch (code) {
    case 'KITTY_SERVER_BAD_LIMITS':
      return new KittyError(ErrorCode.SERVER_BAD_LIMITS, `cannot start the server: ${message}`, {
        cause,
        hint: `fix or unset ${LIMITS_ENV} (a JSON object of limits; names and defaults in \`kitty server --help\`)`,
      });
    case 'KITTY_SERVER_USER_PASSWORD':
      return new KittyError(ErrorCode.SERVER_USER_PASSWORD, `cannot start the server: ${message}`, {
        cause,
        hint: 'set the variable or write the file named, or pass --user NAME:env:VAR:TEAM with a variable that holds the password',
      });
    default:
      return new KittyError(ErrorCode.SERVER_START, `cannot start the server on ${host}:${port}: ${message}`, {
        cause,
        hint: 'pick another port with --port (0 picks a free one)',
      });
  }
}

export const command: Command = {
  help: `Usage: kitty server [--host 127.0.0.1] [--port 8787|0] [--data DIR | --database URL]
                    [--user NAME:PASSWORD:TEAM]... [--user NAME:env:VAR:TEAM] [--user NAME:file:PATH:TEAM]

The reference sync server: the whole API and WebSocket of docs/protocol.md, storing users, tokens
and events in SQLite under --data (one process), or in PostgreSQL with --database (any number of
instances on one database, behind one URL; see docs/team-server.md). The first line of stdout is its URL:
  kitty server: listening on http://127.0.0.1:PORT
Stop it with Ctrl-C (SIGINT) or SIGTERM.

Options:
  --host H             address to bind (default 127.0.0.1); a non-loopback address needs TLS
  --port N             port (default 8787; 0 picks a free one)
  --data DIR           where the SQLite database lives (default $KITTY_HOME/server)
  --database URL       postgres://USER:PASSWORD@HOST:PORT/DATABASE (or postgresql://) instead of
                       SQLite; the schema must be made first: \`kitty server migrate --database URL\`
  --user NAME:PASSWORD:TEAM
                       create or update user NAME with PASSWORD in TEAM at start; repeatable.
                       The password is visible to anyone who lists processes (local use only).
  --user NAME:env:VAR:TEAM
                       … takes the password from the environment variable VAR instead
  --user NAME:file:PATH:TEAM
                       … takes it from the file PATH (one trailing newline is dropped)
  --tls-cert FILE      serve https/wss with this certificate …
  --tls-key FILE       … and key
  --access-lifetime S  access token lifetime in seconds (default 900)
  --trust-proxy ADDR   a reverse proxy at ADDR (an IP address) names the client in X-Forwarded-For,
                       so failed logins back off per client, not per proxy; repeatable
  -h, --help           show this help

Users: \`kitty server user add NAME --team SLUG [--data DIR | --database URL]\` (password from stdin).

Environment:
  ${DATABASE_ENV}   the --database URL when the flag is not given (keeps the password out of ps)
  KITTY_SERVER_LIMITS  a JSON object overriding the server's limits, e.g.
                       KITTY_SERVER_LIMITS='{"maxConnections":200,"batchEvents":500}'.
                       An unknown name or a value that is not a whole number >= 0 stops the start.
${limitsHelp()}`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(
      argv,
      {
        host: { type: 'string' },
        port: { type: 'string' },
        data: { type: 'string' },
        database: { type: 'string' },
        user: { type: 'string', multiple: true },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'access-lifetime': { type: 'string' },
        'trust-proxy': { type: 'string', multiple: true },
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
    const trustedProxies = (values['trust-proxy'] ?? []).map(proxyAddress);
    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer({
        host,
        port: positiveInt(values.port, '--port', 8787),
        dataDir: values.data ?? join(stateDir(io.env), 'server'),
        databaseUrl: databaseUrl(values.database, io.env),
        users,
        tls,
        accessLifetime: positiveInt(values['access-lifetime'], '--access-lifetime', 900) || 900,
        trustedProxies,
        version: packageVersion(),
        log: (line) => io.stderr.write(`kitty server: ${line}\n`),
        env: io.env,
      });
    } catch (cause) {
      throw startError(cause, host, values.port ?? '8787');
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

function proxyAddress(value: string): string {
  if (isIP(value)) return value;
  throw new KittyError(ErrorCode.USAGE, `kitty server: --trust-proxy takes the proxy's IP address, got "${value}"`, {
    hint: 'e.g. `kitty server --trust-proxy 10.0.0.5` (repeat it for each proxy)',
  });
}

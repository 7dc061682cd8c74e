import { join } from 'node:path';
import { ErrorCode, KittyError } from '../../errors/index.js';
import { openStore } from '../../server/store/open.js';
import { stateDir } from '../../state/paths.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import type { Io } from '../output.js';
import { readSecret } from '../secret.js';
import { DATABASE_ENV, databaseError, databaseUrl } from './server-migrate.js';

export const command: Command = {
  help: `Usage: kitty server user add NAME --team SLUG [--data DIR | --database URL]

Creates (or updates) a user of the reference server. The password is read from stdin, or asked
for when stdin is a terminal. It is stored as an scrypt hash.

Options:
  --team SLUG     the user's team
  --data DIR      the SQLite server's data dir (default $KITTY_HOME/server)
  --database URL  the PostgreSQL server's database (default: $${DATABASE_ENV}); its schema is
                  made by \`kitty server migrate\`
  -h, --help      show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals } = parse(
      argv,
      { team: { type: 'string' }, data: { type: 'string' }, database: { type: 'string' } },
      'kitty server user add',
      true,
    );
    const [name] = positionals;
    if (!name || !values.team) {
      throw new KittyError(ErrorCode.USAGE, 'kitty server user add: a NAME and --team SLUG are required', {
        hint: 'e.g. `echo secret | kitty server user add alice --team acme`',
      });
    }
    const password = await readSecret(`password for ${name}: `, io);
    if (!password)
      throw new KittyError(ErrorCode.USAGE, 'kitty server user add: the password is empty', {
        hint: 'pipe it on stdin: `echo secret | kitty server user add …`',
      });
    const log = (line: string): boolean => io.stderr.write(`kitty server: ${line}\n`);
    let store: Awaited<ReturnType<typeof openStore>>;
    try {
      store = await openStore({ dataDir: values.data ?? join(stateDir(io.env), 'server'), databaseUrl: databaseUrl(values.database, io.env), log });
    } catch (cause) {
      throw databaseError(cause, 'cannot save the user') ?? cause;
    }
    try {
      await store.addUser(name, values.team, password);
    } finally {
      await store.close();
    }
    io.stdout.write(`kitty server: user ${name} in team ${values.team} saved\n`);
    return 0;
  },
};

import { join } from 'node:path';
import { ErrorCode, KittyError } from '../../errors/index.js';
import { ServerStore } from '../../server/store.js';
import { stateDir } from '../../state/paths.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import type { Io } from '../output.js';
import { readSecret } from '../secret.js';

export const command: Command = {
  help: `Usage: kitty server user add NAME --team SLUG [--data DIR]

Creates (or updates) a user of the reference server. The password is read from stdin, or asked
for when stdin is a terminal. It is stored as an scrypt hash.

Options:
  --team SLUG  the user's team
  --data DIR   the server's data dir (default $KITTY_HOME/server)
  -h, --help   show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals } = parse(argv, { team: { type: 'string' }, data: { type: 'string' } }, 'kitty server user add', true);
    const [name] = positionals;
    if (!name || !values.team) {
      throw new KittyError(ErrorCode.USAGE, 'kitty server user add: a NAME and --team SLUG are required', {
        hint: 'e.g. `echo secret | kitty server user add alice --team acme`',
      });
    }
    const password = await readSecret(`password for ${name}: `, io);
    if (!password) throw new KittyError(ErrorCode.USAGE, 'kitty server user add: the password is empty', { hint: 'pipe it on stdin: `echo secret | kitty server user add …`' });
    const store = new ServerStore(values.data ?? join(stateDir(io.env), 'server'));
    try {
      store.addUser(name, values.team, password);
    } finally {
      store.close();
    }
    io.stdout.write(`kitty server: user ${name} in team ${values.team} saved\n`);
    return 0;
  },
};

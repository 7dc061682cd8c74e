import { credentialsPath, deleteCredentials } from '../../auth/credentials.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import type { Io } from '../output.js';

export const command: Command = {
  help: `Usage: kitty auth logout

Deletes the stored credentials. Queued events stay queued and are sent after the next login.

Options:
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    parse(argv, {}, 'kitty auth logout');
    const removed = deleteCredentials(io.env);
    io.stdout.write(removed ? `kitty: logged out (removed ${credentialsPath(io.env)})\n` : 'kitty: not logged in\n');
    return 0;
  },
};

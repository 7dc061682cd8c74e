import { packageVersion } from '../../package.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { manPage } from '../man-page.js';
import type { Io } from '../output.js';
import { overview, visibleCommandDocs } from '../registry-docs.js';

export const command: Command = {
  help: `Usage: kitty man

Prints kitty's manual page, kitty(1), in roff, made of the help of every command. Read it with
\`kitty man | man -l -\`, or install it: \`kitty man > ~/.local/share/man/man1/kitty.1\`.

Options:
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    parse(argv, {}, 'kitty man');
    io.stdout.write(manPage(packageVersion(), overview(), await visibleCommandDocs()));
    return 0;
  },
};

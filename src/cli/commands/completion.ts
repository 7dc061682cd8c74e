import { ErrorCode, KittyError } from '../../errors/index.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { completionScript, SHELLS, type Shell } from '../completion-script.js';
import type { Io } from '../output.js';
import { visibleCommandDocs } from '../registry-docs.js';

export const command: Command = {
  help: `Usage: kitty completion bash|zsh|fish

Prints the shell completion script for kitty's commands and their options, generated from the
commands kitty has and their help. Install it with:
  bash  echo 'eval "$(kitty completion bash)"' >> ~/.bashrc
  zsh   kitty completion zsh > "\${fpath[1]}/_kitty"   (then start a new shell)
  fish  kitty completion fish > ~/.config/fish/completions/kitty.fish

Options:
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { positionals } = parse(argv, {}, 'kitty completion', true);
    const [shell] = positionals;
    if (positionals.length !== 1 || !SHELLS.includes(shell as Shell)) {
      throw new KittyError(ErrorCode.USAGE, `kitty completion: unknown shell "${positionals.join(' ')}"`, {
        hint: `use one of: ${SHELLS.join(', ')}, e.g. \`kitty completion bash\``,
      });
    }
    io.stdout.write(completionScript(shell as Shell, await visibleCommandDocs()));
    return 0;
  },
};

import { type CommandDoc, optionsOf } from './help-text.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Node {
  /** The words typed so far ('' at the top). */
  path: string;
  /** Words that may come next, with what they do. */
  next: { word: string; summary: string }[];
  /** Flags of the command these words name, if they name one. */
  options: string[];
}

/** Pure: every point of the command tree where completion offers something. */
function tree(commands: readonly CommandDoc[]): Node[] {
  const nodes = new Map<string, Node>();
  const node = (path: string): Node => {
    const found = nodes.get(path);
    if (found) return found;
    const created = { path, next: [], options: [] };
    nodes.set(path, created);
    return created;
  };
  node('');
  for (const command of commands) {
    const words = command.name.split(' ');
    words.forEach((word, i) => {
      const parent = node(words.slice(0, i).join(' '));
      const last = i === words.length - 1;
      if (!parent.next.some((entry) => entry.word === word)) parent.next.push({ word, summary: last ? command.summary : `${word} commands` });
      else if (last) parent.next.find((entry) => entry.word === word)!.summary = command.summary;
    });
    node(command.name).options = optionsOf(command.help);
  }
  return [...nodes.values()];
}

const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

function bash(nodes: Node[]): string {
  const cases = nodes.map((n) => `    ${JSON.stringify(n.path)}) reply=${quote([...n.next.map((e) => e.word), ...n.options].join(' '))} ;;`);
  return `# kitty completion for bash: eval "$(kitty completion bash)" in ~/.bashrc
_kitty() {
  local cur=\${COMP_WORDS[COMP_CWORD]} kpath= reply= i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in -*) ;; *) kpath=\${kpath:+$kpath }\${COMP_WORDS[i]} ;; esac
  done
  # a flag's value (--state pending) is not a command word: the longest known prefix wins
  while :; do
    case $kpath in
${cases.join('\n')}
      *) [ "\${kpath% *}" = "$kpath" ] && kpath= || kpath=\${kpath% *}; continue ;;
    esac
    break
  done
  COMPREPLY=($(compgen -W "$reply" -- "$cur"))
}
complete -F _kitty kitty
`;
}

function zsh(nodes: Node[]): string {
  const cases = nodes.map((n) => {
    const subs = n.next.map((e) => quote(`${e.word}:${e.summary.replaceAll(':', '\\:')}`)).join(' ');
    const options = n.options.map(quote).join(' ');
    return `    ${JSON.stringify(n.path)}) subs=(${subs}); opts=(${options}) ;;`;
  });
  return `#compdef kitty
# kitty completion for zsh: kitty completion zsh > "\${fpath[1]}/_kitty" (or eval "$(kitty completion zsh)")
_kitty() {
  local kpath= word
  local -a subs opts
  for word in \${words[2,CURRENT-1]}; do
    [[ $word == -* ]] || kpath=\${kpath:+$kpath }$word
  done
  while :; do
    case $kpath in
${cases.join('\n')}
      *) [[ $kpath == *' '* ]] && kpath=\${kpath% *} || kpath=; continue ;;
    esac
    break
  done
  (( \${#subs} )) && _describe 'kitty command' subs
  (( \${#opts} )) && compadd -- $opts
}
compdef _kitty kitty
`;
}

function fish(nodes: Node[]): string {
  const lines = [
    '# kitty completion for fish: kitty completion fish > ~/.config/fish/completions/kitty.fish',
    'function __kitty_typed --description "the kitty command words typed so far, flags left out"',
    '    set -l words (commandline -opc)',
    '    set -e words[1]',
    "    string match -v -- '-*' $words",
    'end',
    'function __kitty_at',
    '    set -l typed (__kitty_typed)',
    '    test "$typed" = "$argv[1]"',
    'end',
    'function __kitty_in',
    '    set -l typed (__kitty_typed)',
    '    string match -q -- "$argv[1]*" "$typed"',
    'end',
    'complete -c kitty -f',
  ];
  for (const n of nodes) {
    for (const entry of n.next) lines.push(`complete -c kitty -n ${quote(`__kitty_at ${quote(n.path)}`)} -a ${quote(entry.word)} -d ${quote(entry.summary)}`);
    if (n.path === '') continue;
    for (const option of n.options) {
      const flag = option.startsWith('--') ? `-l ${option.slice(2)}` : `-s ${option.slice(1)}`;
      lines.push(`complete -c kitty -n ${quote(`__kitty_in ${quote(n.path)}`)} ${flag}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Pure: the completion script for `shell`, from the command registry and each command's help. */
export function completionScript(shell: Shell, commands: readonly CommandDoc[]): string {
  const nodes = tree(commands);
  return { bash, zsh, fish }[shell](nodes);
}

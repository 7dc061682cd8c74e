import type { CommandDoc } from './help-text.js';

/**
 * Pure: text as roff reads it literally: backslashes, a line's leading dot or quote, and non-ASCII
 * characters (→, …: groff reads its input as Latin-1 unless told otherwise) escaped.
 */
function roff(text: string): string {
  return (
    text
      .replaceAll('\\', '\\e')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the range is all of ASCII; what lies outside it is escaped for roff
      .replace(/[^\x00-\x7f]/gu, (char) => `\\[u${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`)
      .split('\n')
      .map((line) => (line.startsWith('.') || line.startsWith("'") ? `\\&${line}` : line))
      .join('\n')
  );
}

/**
 * Pure: kitty(1) in roff, made of the same help texts `--help` prints, so the two never disagree.
 * Each command's help is kept as written (preformatted), under its own subsection.
 */
export function manPage(version: string, overview: string, commands: readonly CommandDoc[]): string {
  const sections = commands.map((command) => `.SS "kitty ${command.name}"\n${roff(command.summary)}\n.PP\n.nf\n${roff(command.help)}\n.fi`);
  return `.TH KITTY 1 "" "kitty ${version}" "User Commands"
.SH NAME
kitty \\- turn work-package lane changes committed in git into events delivered to a sync server
.SH SYNOPSIS
.B kitty
.I command
[\\fIoptions\\fR]
.SH DESCRIPTION
.nf
${roff(overview)}
.fi
.SH COMMANDS
${sections.join('\n')}
.SH ENVIRONMENT
.TP
.B KITTY_HOME
the state dir (queue, logs, credentials), else $XDG_STATE_HOME/kitty, else ~/.local/state/kitty
.TP
.B KITTY=0
hooks postpone capture to the next hook run
.TP
.B KITTY_SYNC_BACKOFF
FIRST:MAX:FOR in milliseconds: how the background flusher retries a server it cannot reach (default 1000:30000:300000)
.TP
.B NO_COLOR
no colour in the output
.SH SEE ALSO
.BR git (1),
.BR githooks (5)
`;
}

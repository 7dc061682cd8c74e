/** A command as completion and the man page see it: its words, summary, help and flags. */
export interface CommandDoc {
  name: string;
  summary: string;
  help: string;
}

/** Pure: the flags a help text lists under "Options:" (`-m, --message M` gives -m and --message). */
export function optionsOf(help: string): string[] {
  const start = help.indexOf('\nOptions:\n');
  if (start < 0) return [];
  const flags: string[] = [];
  for (const line of help.slice(start + '\nOptions:\n'.length).split('\n')) {
    const match = /^\s+(?:(-[a-zA-Z]),\s+)?(--[a-z][a-z0-9-]*)/.exec(line);
    if (!match) continue;
    if (match[1]) flags.push(match[1]);
    flags.push(match[2]!);
  }
  return [...new Set(flags)];
}

import type { CommandDoc } from './help-text.js';
import { COMMANDS, usage } from './run.js';

/** Every command a user may type, with its help: the source of completion and the man page. */
export async function visibleCommandDocs(): Promise<CommandDoc[]> {
  const visible = Object.entries(COMMANDS).filter(([, entry]) => !entry.hidden);
  return Promise.all(visible.map(async ([name, entry]) => ({ name, summary: entry.summary, help: (await entry.load()).command.help })));
}

/** `kitty --help`, for the man page's description. */
export function overview(): string {
  return usage();
}

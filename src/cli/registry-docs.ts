import type { CommandDoc } from './help-text.js';

/**
 * The command registry lives in the entry module, which is already loaded when a command runs:
 * importing it again returns that same module, it does not run kitty a second time.
 */
async function registry() {
  return import('./main.js');
}

/** Every command a user may type, with its help: the source of completion and the man page. */
export async function visibleCommandDocs(): Promise<CommandDoc[]> {
  const { COMMANDS } = await registry();
  const visible = Object.entries(COMMANDS).filter(([, entry]) => !entry.hidden);
  return Promise.all(visible.map(async ([name, entry]) => ({ name, summary: entry.summary, help: (await entry.load()).command.help })));
}

/** `kitty --help`, for the man page's description. */
export async function overview(): Promise<string> {
  return (await registry()).usage();
}

import { describeError, ErrorCode, isKittyError, KittyError } from '../errors/index.js';
import { packageVersion } from '../package.js';
import type { Command } from './command.js';
import type { Io } from './output.js';
import { sanitize } from './output.js';

export interface Entry {
  summary: string;
  hidden?: boolean;
  load: () => Promise<{ command: Command }>;
}

// Commands load lazily so `kitty --help` and the hook entry points start without the heavy modules.
export const COMMANDS: Record<string, Entry> = {
  init: { summary: 'create .kittify/config.yaml and backfill the project identity', load: () => import('./commands/init.js') },
  identity: { summary: 'show the project identity events are stamped with', load: () => import('./commands/identity.js') },
  derive: { summary: 'derive WPStatusChanged events from commits and queue them', load: () => import('./commands/derive.js') },
  'events list': { summary: 'list queued events', load: () => import('./commands/events-list.js') },
  'hooks install': { summary: 'install the git hooks that capture lane changes', load: () => import('./commands/hooks-install.js') },
  'hooks uninstall': { summary: "remove kitty's git hooks, restoring any they replaced", load: () => import('./commands/hooks-uninstall.js') },
  'hooks status': { summary: 'show whether each git hook is installed and working', load: () => import('./commands/hooks-status.js') },
  'auth login': { summary: 'log in to a sync server (turns sync on)', load: () => import('./commands/auth-login.js') },
  'auth logout': { summary: 'forget the stored credentials', load: () => import('./commands/auth-logout.js') },
  'auth status': { summary: 'show who is logged in to which server', load: () => import('./commands/auth-status.js') },
  'sync flush': { summary: 'send pending events now, with progress and a summary', load: () => import('./commands/sync-flush.js') },
  'sync status': { summary: 'queue counts, last error, flusher and login', load: () => import('./commands/sync-status.js') },
  'sync retry-dead': { summary: 'move dead events back to pending', load: () => import('./commands/sync-retry-dead.js') },
  'sync reset-clock': { summary: 'restart a poisoned Lamport clock and restamp unsent events', load: () => import('./commands/sync-reset-clock.js') },
  'sync verify': { summary: "compare the working tree's lanes with the server's board", load: () => import('./commands/sync-verify.js') },
  'wp move': { summary: 'move a work package to a lane and commit it', load: () => import('./commands/wp-move.js') },
  board: { summary: 'show the board of the working tree', load: () => import('./commands/board.js') },
  'sync run': { summary: 'internal: the background flusher', hidden: true, load: () => import('./commands/sync-run.js') },
  server: { summary: 'run the reference sync server (API, WebSocket, SQLite)', load: () => import('./commands/server.js') },
  'server user add': { summary: 'create or update a user of the reference server', load: () => import('./commands/server-user-add.js') },
  'server migrate': { summary: "create or upgrade the server's PostgreSQL schema", load: () => import('./commands/server-migrate.js') },
  doctor: { summary: 'check the whole capture path and print a fix for each problem', load: () => import('./commands/doctor.js') },
  completion: { summary: 'print the shell completion script (bash, zsh, fish)', load: () => import('./commands/completion.js') },
  man: { summary: 'print the manual page kitty(1) in roff', load: () => import('./commands/man.js') },
  'hooks worker': { summary: 'internal: process capture requests (run by the hooks)', hidden: true, load: () => import('./commands/hooks-worker.js') },
};

export function usage(): string {
  const visible = Object.entries(COMMANDS).filter(([, entry]) => !entry.hidden);
  const width = Math.max(...visible.map(([name]) => name.length));
  const lines = visible.map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return `Usage: kitty <command> [options]

kitty turns work-package lane changes committed in git into WPStatusChanged events, queued
durably and delivered exactly once to a sync server.

Commands:
${lines.join('\n')}

Run \`kitty <command> --help\` for a command's options.
Environment: KITTY_HOME (state dir), NO_COLOR, KITTY=0 (hooks postpone capture to the next hook run).`;
}

function findCommand(argv: string[]): { name: string; entry: Entry; rest: string[] } | undefined {
  for (const words of [3, 2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const entry = COMMANDS[name];
    if (entry && argv.length >= words) return { name, entry, rest: argv.slice(words) };
  }
  return undefined;
}

/** The commands of a group (`kitty sync`), as the group's help; null when `group` is none. */
function groupHelp(group: string): string | null {
  const members = Object.entries(COMMANDS).filter(([name, entry]) => name.startsWith(`${group} `) && !entry.hidden);
  if (members.length === 0) return null;
  const width = Math.max(...members.map(([name]) => name.length));
  return `Usage: kitty ${group} <command> [options]\n\nCommands:\n${members.map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`).join('\n')}\n\nRun \`kitty ${group} <command> --help\` for a command's options.`;
}

/** The one command a typo most likely meant (`kitty hook install`, `kitty doctr`), by edit distance (loaded only for a typo). */
async function suggestion(argv: readonly string[]): Promise<string | null> {
  const { distance } = await import('fastest-levenshtein');
  let best: { name: string; cost: number } | null = null;
  for (const [name, entry] of Object.entries(COMMANDS)) {
    if (entry.hidden) continue;
    const typed = argv.slice(0, name.split(' ').length).join(' ');
    const cost = distance(typed, name);
    if (!best || cost < best.cost) best = { name, cost };
  }
  return best && best.cost <= Math.max(2, Math.floor(best.name.length / 3)) ? best.name : null;
}

async function unknownCommand(argv: readonly string[]): Promise<KittyError> {
  const meant = await suggestion(argv);
  const hint = meant ? `did you mean \`kitty ${meant}\`?` : 'run `kitty --help` for the list of commands';
  return new KittyError(ErrorCode.USAGE, `unknown command "${argv.join(' ')}"`, { hint });
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)) {
    io.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (first === '--version' || first === '-V' || first === '-v' || first === 'version') {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  // `kitty help <command>` is `kitty <command> --help`
  const asked = first === 'help' ? [...argv.slice(1), '--help'] : argv;
  const found = findCommand(asked);
  if (!found) {
    const group = asked.length === 1 || (first === 'help' && asked.length === 2) ? groupHelp(asked[0]!) : null;
    if (group) {
      io.stdout.write(`${group}\n`);
      return 0;
    }
    throw await unknownCommand(first === 'help' ? argv.slice(1) : argv);
  }
  const { command } = await found.entry.load();
  if (found.rest.includes('--help') || found.rest.includes('-h')) {
    io.stdout.write(`${command.help}\n`);
    return 0;
  }
  const code = await command.run(found.rest, io);
  if (!KEEPS_DELIVERY_ALONE.has(found.name) && !found.name.startsWith('server')) (await import('./resume.js')).resumeDelivery(io.env);
  return code;
}

/** Commands that are the flusher, stop it, or have nothing to do with this machine's queue. */
const KEEPS_DELIVERY_ALONE = new Set(['sync run', 'sync flush', 'hooks worker', 'auth login', 'auth logout', 'completion', 'man']);

/**
 * The one top-level handler: user errors are one line with code and hint; anything else is a bug.
 * Messages quote the values seen (feature names, paths, server answers), hence the sanitizing.
 */
export function reportError(error: unknown, io: Io): number {
  if (isKittyError(error)) {
    io.stderr.write(`kitty: ${sanitize(describeError(error))}\n`);
    if (io.env.KITTY_DEBUG && error.cause) io.stderr.write(`${String((error.cause as Error).stack ?? error.cause)}\n`);
    return error.exitCode;
  }
  const detail = error instanceof Error ? (io.env.KITTY_DEBUG ? error.stack : error.message) : String(error);
  io.stderr.write(
    `kitty: internal error: ${sanitize(detail)}\nThis is a bug in kitty. Please report it with the command you ran and \`kitty --version\` (KITTY_DEBUG=1 shows the stack).\n`,
  );
  return 70;
}

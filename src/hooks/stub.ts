import { readFileSync } from 'node:fs';
import { CLI_PATH } from '../package.js';

export const HOOK_NAMES = ['post-commit', 'post-merge', 'post-rewrite', 'post-applypatch'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

const STUB_MARKER = 'kitty-hook: managed by `kitty hooks install`';
export const STUB_VERSION = 4;
/** A user's hook that kitty's stub replaced is kept under this suffix and still runs. */
export const CHAINED_SUFFIX = '.pre-kitty';

const TEMPLATE_URL = new URL('../../hooks/stub.sh', import.meta.url);

/** POSIX sh single-quoting: safe for spaces, quotes and `$` in paths. */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export function stubText(hook: HookName, node: string = process.execPath, cli: string = CLI_PATH): string {
  return readFileSync(TEMPLATE_URL, 'utf8').replace('@NODE@', shQuote(node)).replace('@CLI@', shQuote(cli)).replace('@HOOK@', hook);
}

export function isStub(text: string): boolean {
  return text.includes(STUB_MARKER);
}

/** Pure: the node and CLI paths and version a stub was written with. */
export function stubFacts(text: string): { node: string | null; cli: string | null; version: number | null } {
  const unquote = (name: string): string | null => {
    const match = new RegExp(`^${name}=('(?:[^']|'\\\\'')*')$`, 'm').exec(text);
    return match ? match[1]!.slice(1, -1).replaceAll(`'\\''`, "'") : null;
  };
  const version = /^# kitty-hook-version: (\d+)$/m.exec(text);
  return { node: unquote('kitty_node'), cli: unquote('kitty_cli'), version: version ? Number(version[1]) : null };
}

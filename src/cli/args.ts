import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ErrorCode, KittyError } from '../errors/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `node:util` parseArgs with kitty's usage error: the unknown or malformed flag, and where help is. */
export function parse<T extends Options>(argv: string[], options: T, command: string, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (cause) {
    throw new KittyError(ErrorCode.USAGE, `${command}: ${(cause as Error).message}`, {
      cause,
      hint: `see \`${command} --help\``,
    });
  }
}

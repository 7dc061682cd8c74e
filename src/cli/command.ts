import type { Io } from './output.js';

export interface Command {
  /** Help text printed for `--help`. */
  help: string;
  run(argv: string[], io: Io): Promise<number>;
}

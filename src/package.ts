import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The CLI entry point of this installation, by absolute path: what hook stubs and the detached
 * flusher run (GUI git clients and nvm give hooks no PATH to find `kitty` on).
 */
export const CLI_PATH = fileURLToPath(new URL('./cli/main.js', import.meta.url));

export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

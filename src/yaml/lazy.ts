import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

/**
 * The YAML library, loaded on first use: it costs ~35 ms to load, and reading work packages needs
 * it only for frontmatter outside the common shape (see fast-fields).
 */
export function yaml(): typeof Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return loaded;
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The committed husky hooks (`.husky/<hook>`, not husky's generated `_/`) with a line calling kitty:
 * every clone gets them, but they only work where `kitty hooks install` ran.
 */
export function huskyFilesCallingKitty(root: string): string[] {
  const dir = join(root, '.husky');
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
  return names
    .filter((name) => {
      try {
        return readFileSync(join(dir, name), 'utf8')
          .split('\n')
          .some((line) => !line.trimStart().startsWith('#') && /\bkitty\b/.test(line));
      } catch {
        return false;
      }
    })
    .map((name) => `.husky/${name}`)
    .sort();
}

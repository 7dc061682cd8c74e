// Removes what `tsc` left in dist/ from sources that no longer exist (tsc never deletes): a stale
// module would still satisfy an import of a deleted file locally, and would count as uncovered code.
// A .js file with a .js source of the same name (a dashboard asset copied as is) stays.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

function prune(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true, force: true });
      continue;
    }
    const match = /^(.*)\.js(\.map)?$/.exec(relative(dist, path));
    if (match && !existsSync(join(root, 'src', `${match[1]}.ts`)) && !existsSync(join(root, 'src', `${match[1]}.js`))) rmSync(path, { force: true });
  }
}

if (existsSync(dist)) prune(dist);

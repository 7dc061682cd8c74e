// The dashboard is plain files (no build step of its own): copied next to the compiled server, so
// dist/ is complete and the server never reaches back into src/.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const from = join(root, 'src', 'server', 'dashboard');
const to = join(root, 'dist', 'server', 'dashboard');

if (existsSync(to)) rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true, filter: (path) => !path.endsWith('.d.ts') });

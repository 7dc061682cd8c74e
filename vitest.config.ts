import { chmodSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Under NODE_V8_COVERAGE (`npm run coverage` runs the suite under c8, which sets it for the whole
// process tree), a test's imports of src/ get the built dist/ instead, loaded by Node rather than by
// Vite: V8 then measures the same files in the test processes as in the kitty processes they spawn,
// and c8 maps both back to src/ through the same source maps. The dashboard's browser files are
// not compiled, so they stay where they are.
const coverage = Boolean(process.env.NODE_V8_COVERAGE);
if (process.env.NODE_V8_COVERAGE) {
  // a test runs kitty as another user (nobody, when the suite runs as root): without a report dir
  // it may write to, Node prints EACCES on that kitty's stderr
  mkdirSync(process.env.NODE_V8_COVERAGE, { recursive: true });
  chmodSync(process.env.NODE_V8_COVERAGE, 0o1777);
}
const dist = fileURLToPath(new URL('./dist/', import.meta.url));

export default defineConfig({
  resolve: coverage ? { alias: [{ find: /^(?:\.\.?\/)+src\/(?!server\/dashboard\/)(.*)\.js$/, replacement: `${dist}$1.js` }] } : {},
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    // three files at once: a file spends much of its time waiting on the processes and servers it
    // runs, so on 2 cores three at once take about half the time of one at a time (four are no
    // faster: the suite is then CPU-bound). A test that fails under this load has a race to fix.
    maxWorkers: 3,
    // a worker runs file after file in one process: the modules it loaded serve them all (tests
    // share no state otherwise: each has its own temp dirs and KITTY_HOME)
    isolate: false,
    // one PostgreSQL cluster for the run, shared by every test process
    globalSetup: ['./tests/helpers/postgres-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default', './tests/helpers/summary-reporter.ts'],
    // the built kitty the tests run in-process is loaded by Node, as the kitty binary loads it
    server: { deps: { external: [/\/dist\//] } },
    ...(coverage ? { setupFiles: ['./tests/helpers/coverage-setup.ts'] } : {}),
  },
});

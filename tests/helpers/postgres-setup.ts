import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { launchCluster, type PostgresCluster } from './postgres.js';

/**
 * The run's one PostgreSQL cluster (vitest globalSetup), started when a test process first asks
 * for it (startPostgres leaves a request file, then waits for the port file): a run of tests that
 * need none never starts it.
 */
export default function setup(project: TestProject): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kitty-pg-run-'));
  project.provide('postgresDir', dir);
  const announce = (state: { port?: number; error?: string }): void => {
    writeFileSync(join(dir, 'ready.json.tmp'), JSON.stringify(state));
    renameSync(join(dir, 'ready.json.tmp'), join(dir, 'ready.json'));
  };
  let started: Promise<PostgresCluster | null> | undefined;
  const watch = setInterval(() => {
    if (started || !existsSync(join(dir, 'wanted'))) return;
    clearInterval(watch);
    started = launchCluster().then(
      (cluster) => {
        announce({ port: cluster.port });
        return cluster;
      },
      (error: unknown) => {
        announce({ error: error instanceof Error ? error.message : String(error) });
        return null;
      },
    );
  }, 50);
  return async () => {
    clearInterval(watch);
    (await started)?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

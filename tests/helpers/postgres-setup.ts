import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { launchCluster, type PostgresCluster } from './postgres.js';

/**
 * The run's one PostgreSQL cluster (vitest globalSetup), started in the background: tests that
 * need it wait for its port file (startPostgres), the others never wait for it.
 */
export default function setup(project: TestProject): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kitty-pg-run-'));
  const ready = join(dir, 'ready.json');
  project.provide('postgresReady', ready);
  const announce = (state: { port?: number; error?: string }): void => {
    writeFileSync(`${ready}.tmp`, JSON.stringify(state));
    renameSync(`${ready}.tmp`, ready);
  };
  const started: Promise<PostgresCluster | null> = launchCluster().then(
    (cluster) => {
      announce({ port: cluster.port });
      return cluster;
    },
    (error: unknown) => {
      announce({ error: error instanceof Error ? error.message : String(error) });
      return null;
    },
  );
  return async () => {
    (await started)?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

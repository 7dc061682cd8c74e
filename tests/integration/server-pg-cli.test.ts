import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, runKittyAsync, tempDir, testEnv } from '../helpers/gitdir.js';
import { call, envelope, login } from '../helpers/hostile.js';
import { type PostgresCluster, psql, startPostgres } from '../helpers/postgres.js';
import { startServer } from '../helpers/server.js';

let cluster: PostgresCluster;
beforeAll(async () => {
  cluster = await startPostgres();
});
afterAll(() => cluster.stop());

const kitty = (args: string[], extra: NodeJS.ProcessEnv = {}, input?: string): Promise<RunResult> =>
  runKittyAsync(args, tempDir(), testEnv(tempDir(), extra), input);

/** A refusal as the interface promises it: non-zero, one `error CODE:` line naming what was seen, a hint, no stack trace. */
function refused(result: RunResult, code: string, ...mentions: (string | RegExp)[]): void {
  expect(result.code, result.stderr).not.toBe(0);
  expect(result.stderr).toContain(`error ${code}:`);
  expect(result.stderr).toContain('hint:');
  expect(result.stderr).not.toMatch(/^\s+at /m);
  for (const mention of mentions) expect(result.stderr).toMatch(mention);
}

describe('kitty server on PostgreSQL: migrate, refusals, users', () => {
  it('refuses a database never migrated, naming the version and the migrate command; migrate run twice at once makes the schema once; then it serves', async () => {
    const url = await cluster.createDatabase({ migrated: false });
    refused(
      await kitty(['server', '--port', '0', '--database', url]),
      'KITTY_ERR_SERVER_START',
      'schema version 0 (never migrated)',
      `kitty server migrate --database ${url}`,
    );

    const both = await Promise.all([kitty(['server', 'migrate', '--database', url]), kitty(['server', 'migrate'], { KITTY_DATABASE_URL: url })]);
    for (const result of both) expect(result.code, result.stderr).toBe(0);
    expect(both.map((result) => result.stdout).sort()).toEqual(
      [`kitty server: ${url} is at schema version 2, nothing to do\n`, `kitty server: ${url} migrated from schema version 0 to 2\n`].sort(),
    );
    expect(psql(url, 'SELECT version FROM kitty_schema')).toEqual(['2']);

    const added = await kitty(['server', 'user', 'add', 'alice', '--team', 'acme', '--database', url], {}, 'alice-pass\n');
    expect(added.code, added.stderr).toBe(0);
    const server = await startServer({ database: url, users: [] });
    expect((await login(server.url, 'alice', 'alice-pass')).team_slug).toBe('acme');
  });

  it('migrating from version 1 works every project slug out again from its events, by the latest event that names one', async () => {
    const url = await cluster.createDatabase();
    const server = await startServer({ database: url });
    const { access } = await login(server.url);
    const project = '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e';
    const at = (timestamp: string, slug: string | null) => ({ ...envelope({ project_uuid: project }), timestamp, project_slug: slug });
    const sent = await call(server.url, 'POST', '/api/v1/events/batch/', {
      body: {
        events: [at('2026-01-01T00:00:00Z', 'old'), at('2026-01-03T00:00:00Z', null), at('2026-01-02T00:00:00.5Z', 'new'), at('2026-01-02T00:00:00.5Z', 'mid')],
      },
      token: access,
    });
    expect(sent.status, sent.text).toBe(200);
    await server.stop();
    // the database as version 1 left it: no slug_ts_key, and a slug its rule got wrong
    psql(url, "ALTER TABLE projects DROP COLUMN slug_ts_key; UPDATE projects SET project_slug = 'old'; UPDATE kitty_schema SET version = 1");
    const migrated = await kitty(['server', 'migrate', '--database', url]);
    expect(migrated.stdout, migrated.stderr).toBe(`kitty server: ${url} migrated from schema version 1 to 2\n`);
    expect(psql(url, "SELECT project_slug || ' ' || slug_ts_key FROM projects")).toEqual(['new 2026-01-02T00:00:00.500000000Z']);
  });

  it('orders slugs, times and ids byte by byte whatever the database collation (one that ignores hyphens puts "a-b" after "aa")', async () => {
    const url = await cluster.createDatabase({ icuLocale: 'en-US-u-ka-shifted' });
    const server = await startServer({ database: url });
    const { access } = await login(server.url);
    const at = (slug: string) => ({ ...envelope(), event_type: 'FeatureCreated', payload: {}, timestamp: '2026-01-01T00:00:00Z', project_slug: slug });
    const sent = await call(server.url, 'POST', '/api/v1/events/batch/', { body: { events: [at('a-b'), at('aa')] }, token: access });
    expect(sent.status, sent.text).toBe(200);
    // of two slugs at one time the greater in byte order, as SQLite picks
    expect((await call(server.url, 'GET', '/api/v1/projects/', { token: access })).json[0].project_slug).toBe('aa');
  });

  it('refuses a schema newer than it knows, naming both versions; an older kitty never touches it', async () => {
    const url = await cluster.createDatabase();
    psql(url, 'UPDATE kitty_schema SET version = 99');
    refused(await kitty(['server', '--port', '0'], { KITTY_DATABASE_URL: url }), 'KITTY_ERR_SERVER_SCHEMA_TOO_NEW', 'schema version 99', 'knows up to 2');
    refused(await kitty(['server', 'migrate', '--database', url]), 'KITTY_ERR_SERVER_SCHEMA_TOO_NEW', 'schema version 99');
    expect(psql(url, 'SELECT version FROM kitty_schema')).toEqual(['99']);
  });

  it('a URL that is not postgres:// is a usage error naming it; an unreachable database names host and port, never the password', async () => {
    const bad = await kitty(['server', '--database', 'mysql://kitty@127.0.0.1/kitty']);
    refused(bad, 'KITTY_ERR_USAGE', '"mysql://kitty@127.0.0.1/kitty"');
    expect(bad.code).toBe(2);
    // port 9: below 1024, so no test's server listens there
    const unreachable = await kitty(['server', 'migrate', '--database', 'postgres://kitty:s3cret-pw@127.0.0.1:9/kitty']);
    refused(unreachable, 'KITTY_ERR_SERVER_START', '127.0.0.1:9', /ECONNREFUSED/);
    expect(unreachable.stderr).not.toContain('s3cret-pw');
    refused(
      await kitty(['server', 'user', 'add', 'bob', '--team', 'acme', '--database', 'postgres://kitty@127.0.0.1:9/kitty'], {}, 'pw\n'),
      'KITTY_ERR_SERVER_START',
      '127.0.0.1:9',
    );
    refused(await kitty(['server', 'migrate']), 'KITTY_ERR_USAGE', 'KITTY_DATABASE_URL is unset');
  });
});

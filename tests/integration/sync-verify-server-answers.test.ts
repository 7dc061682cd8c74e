import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/queue/queue.js';
import { draft } from '../helpers/events.js';
import { fakeSync, writeCredentials } from '../helpers/fake-sync.js';
import { gitdir, type Repo, wp } from '../helpers/gitdir.js';
import { serverInProcess } from '../helpers/server.js';

const T = 'kitty-specs/001-demo/tasks';

/** A repository with a committed identity and two WPs: its uuid. */
async function project(): Promise<{ repo: Repo; uuid: string }> {
  const repo = gitdir({ [`${T}/WP01.md`]: wp({ lane: 'planned' }), [`${T}/WP02.md`]: wp({ lane: 'doing' }) });
  const init = await repo.run(['init', '--json']);
  expect(init.code, init.stderr).toBe(0);
  repo.commit('kitty identity');
  return { repo, uuid: (JSON.parse(init.stdout) as { project_uuid: string }).project_uuid };
}

describe('kitty sync verify against what the server answers', () => {
  it('an access token the server no longer knows is refreshed once; a WP only the server has is listed with its fix', async () => {
    const server = await serverInProcess();
    const { repo, uuid } = await project();
    expect((await repo.run(['auth', 'login', '--server', server.url, '--username', 'demo', '--password-stdin'], { input: 'demo-pass' })).code).toBe(0);
    expect((await repo.run(['derive'])).code).toBe(0);
    const flush = await repo.run(['sync', 'flush']);
    expect(flush.code, flush.stdout + flush.stderr).toBe(0);
    // the WP is gone from the working tree only: the server keeps what was delivered
    repo.git('rm', '-q', `${T}/WP02.md`);
    // a move of this project queued by a tool that names neither feature nor lanes
    const queue = EventQueue.open({ env: repo.env });
    queue.enqueue([draft('01KA00000000000000000000ZZ', { project_uuid: uuid, payload: {} })]);
    queue.close();
    // as if the server had restarted with a new signing key: the stored access token is refused
    const path = join(repo.home, 'credentials.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), access: 'no-longer-valid' }), { mode: 0o600 });
    const result = await repo.run(['sync', 'verify']);
    expect(result.code).toBe(1);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^001-demo\/WP02: on the server \(lane doing\) but not in this repository; fix: .+$/);
    expect(lines[1]).toMatch(/^kitty sync verify: 1 differences; fix: .+$/);
    expect(JSON.parse(readFileSync(path, 'utf8')).access).not.toBe('no-longer-valid');
  });

  it('a server that answers the board with an error status: KITTY_ERR_SERVER_UNREACHABLE naming the status', async () => {
    const fake = await fakeSync();
    const { repo, uuid } = await project();
    writeCredentials(repo.home, fake.url);
    const result = await repo.run(['sync', 'verify', '--json']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `kitty: error KITTY_ERR_SERVER_UNREACHABLE: the server answered HTTP 404 for the board of ${uuid}; hint: check the server with \`kitty doctor\`\n`,
    );
    expect(fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual([`GET /api/v1/projects/${uuid}/board/`]);
  });

  it('no server at the URL: KITTY_ERR_SERVER_UNREACHABLE with the connection error', async () => {
    const fake = await fakeSync();
    const { repo } = await project();
    writeCredentials(repo.home, fake.url);
    await fake.close();
    const result = await repo.run(['sync', 'verify']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `kitty: error KITTY_ERR_SERVER_UNREACHABLE: cannot reach the sync server at ${fake.url} (ECONNREFUSED); hint: check the URL and that the server runs (\`kitty doctor\` tests it); queued events wait until it is back\n`,
    );
  });
});

import { accessToken, unreachable } from '../../auth/session.js';
import { readTeams } from '../../auth/teams.js';
import { ErrorCode, KittyError } from '../../errors/index.js';
import { repoInfo } from '../../git/repo.js';
import { resolveIdentity } from '../../identity/index.js';
import { EventQueue } from '../../queue/queue.js';
import { sameLane } from '../../workpackage/lanes.js';
import { readWorkTree } from '../../workpackage/tree.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, sanitize, warner } from '../output.js';
import { type Cause, explain, type QueuedMove } from '../verify-causes.js';

export interface Difference {
  feature: string;
  wp_id: string;
  kind: 'missing-on-server' | 'different-lane' | 'unknown-wp';
  local_lane: string | null;
  server_lane: string | null;
}

/** This project's moves in the local queue: what tells why the server differs. */
function queuedMoves(io: Io, projectUuid: string): QueuedMove[] {
  const queue = EventQueue.open({ env: io.env });
  try {
    return queue
      .list({ state: 'all' })
      .events.filter((event) => event.envelope.project_uuid === projectUuid)
      .map((event) => {
        const p = event.envelope.payload as { feature_slug?: string; wp_id?: string; to_lane?: string };
        return { feature: p.feature_slug ?? '', wpId: p.wp_id ?? event.envelope.aggregate_id, toLane: p.to_lane ?? '', state: event.state };
      });
  } finally {
    queue.close();
  }
}

type ServerBoard = { features: Record<string, Record<string, { lane: string }>> };

/**
 * Pure: every difference between the working tree's canonical lanes (`readWorkTree`) and the
 * server's board. `doing` and `in_progress` are one lane: a log that renames one to the other
 * makes no event, so reporting it would ask for a fix that cannot come.
 */
export function compareBoards(local: readonly { feature: string; wpId: string; lane: string | null }[], server: ServerBoard): Difference[] {
  const differences: Difference[] = [];
  const seen = new Set<string>();
  for (const wp of local) {
    seen.add(`${wp.feature}/${wp.wpId}`);
    const remote = server.features[wp.feature]?.[wp.wpId];
    if (!remote) differences.push({ feature: wp.feature, wp_id: wp.wpId, kind: 'missing-on-server', local_lane: wp.lane, server_lane: null });
    else if (!sameLane(remote.lane, wp.lane))
      differences.push({ feature: wp.feature, wp_id: wp.wpId, kind: 'different-lane', local_lane: wp.lane, server_lane: remote.lane });
  }
  for (const [feature, wps] of Object.entries(server.features)) {
    for (const [wpId, remote] of Object.entries(wps)) {
      if (!seen.has(`${feature}/${wpId}`)) differences.push({ feature, wp_id: wpId, kind: 'unknown-wp', local_lane: null, server_lane: remote.lane });
    }
  }
  return differences;
}

export const command: Command = {
  help: `Usage: kitty sync verify [--json]

Compares the lanes of the working tree's work packages with the server's board for this project
and lists every difference: missing on the server, a different lane, or a WP the server knows and
the repository does not. Each comes with its cause, read from the local queue, and the fix for it:
the move is queued but not sent (\`kitty sync flush\`), rejected (\`kitty sync retry-dead\`), was
delivered to another team (log in to that team), or was never captured (\`kitty derive\`).
Exits 1 when they differ.

Options:
  --json     print {project_uuid, in_sync, differences: [{..., cause, fix}], fixes} as JSON
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { json: { type: 'boolean' } }, 'kitty sync verify');
    const repo = await repoInfo(io.cwd, io.env);
    const identity = await resolveIdentity({ cwd: repo.root, env: io.env, repo, write: false, warn: warner(io) });
    const local = readWorkTree(repo.root, warner(io)).filter((wp) => wp.lane !== null);
    let team: string | null = null;
    const fetchBoard = async (force: boolean): Promise<Response> => {
      const { token, credentials } = await accessToken(io.env, { force });
      team = credentials.team_slug;
      try {
        return await fetch(`${credentials.server_url}/api/v1/projects/${identity.projectUuid}/board/`, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(30_000),
        });
      } catch (cause) {
        throw unreachable(credentials.server_url, cause);
      }
    };
    let response = await fetchBoard(false);
    if (response.status === 401) response = await fetchBoard(true);
    if (!response.ok) {
      throw new KittyError(ErrorCode.SERVER_UNREACHABLE, `the server answered HTTP ${response.status} for the board of ${identity.projectUuid}`, {
        hint: 'check the server with `kitty doctor`',
      });
    }
    const found = compareBoards(local, (await response.json()) as ServerBoard);
    const moves = found.length > 0 ? queuedMoves(io, identity.projectUuid) : [];
    const teams = { now: team, before: readTeams(io.env)[identity.projectUuid] ?? null };
    const differences: (Difference & { cause: Cause; fix: string })[] = found.map((d) => ({ ...d, ...explain(d, moves, teams) }));
    const fixes = [...new Set(differences.map((d) => d.fix))];
    if (values.json) {
      printJson(io, { project_uuid: identity.projectUuid, in_sync: differences.length === 0, differences, fixes });
    } else if (differences.length === 0) {
      io.stdout.write(`kitty sync verify: the server's board matches the working tree (${local.length} work packages)\n`);
    } else {
      for (const d of differences) {
        const what = {
          'missing-on-server': `missing on the server (local lane ${d.local_lane})`,
          'different-lane': `lane ${d.local_lane} here, ${d.server_lane} on the server`,
          'unknown-wp': `on the server (lane ${d.server_lane}) but not in this repository`,
        }[d.kind];
        io.stdout.write(`${sanitize(`${d.feature}/${d.wp_id}: ${what}; fix: ${d.fix}`)}\n`);
      }
      io.stdout.write(
        `kitty sync verify: ${differences.length} differences; ${sanitize(fixes.length === 1 ? `fix: ${fixes[0]}` : `fixes: ${fixes.join('; ')}`)}\n`,
      );
    }
    return differences.length === 0 ? 0 : 1;
  },
};

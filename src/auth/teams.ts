import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withQueueDb } from '../clock/repair.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { type Env, stateDir } from '../state/paths.js';

/**
 * The team each project's events were delivered to (`$KITTY_HOME/teams.json`): the server keeps
 * teams apart, so a login to another team would start a second, partial history of the project.
 */
function teamsPath(env: Env): string {
  return join(stateDir(env), 'teams.json');
}

export function readTeams(env: Env): Record<string, string> {
  try {
    const value = JSON.parse(readFileSync(teamsPath(env), 'utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Never throws: the record only feeds a warning, delivery does not depend on it. */
export function recordTeam(env: Env, projects: readonly string[], team: string): void {
  if (projects.length === 0) return;
  try {
    const teams = readTeams(env);
    if (projects.every((project) => teams[project] === team)) return;
    for (const project of projects) teams[project] = team;
    writeFileAtomic(teamsPath(env), `${JSON.stringify(teams, null, 2)}\n`, 0o600);
  } catch {
    // the warning it feeds is a courtesy
  }
}

/** Whether any of the project's events was delivered from this machine (to whichever team). */
function projectDelivered(env: Env, project: string): boolean {
  const queuePath = join(stateDir(env), 'queue.db');
  if (!existsSync(queuePath)) return false;
  return withQueueDb(queuePath, (db) => db.prepare("SELECT 1 FROM events WHERE project_uuid = ? AND state = 'delivered' LIMIT 1").get(project) !== undefined);
}

/**
 * The team this project's events went to: as recorded by the flusher, else, when some were
 * delivered, the team of the login being replaced (a flusher stopped early records nothing).
 */
export function previousTeam(env: Env, project: string, replacedLogin: string | null): string | null {
  return readTeams(env)[project] ?? (replacedLogin && projectDelivered(env, project) ? replacedLogin : null);
}

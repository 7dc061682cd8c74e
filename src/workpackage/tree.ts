import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SPECS_DIR } from '../constants.js';
import { ErrorCode, KittyError, errnoCode } from '../errors/index.js';
import { parseWorkPackage } from './frontmatter.js';
import { classifyPath } from './paths.js';

export interface TreeWorkPackage {
  feature: string;
  wpId: string;
  lane: string | null;
  title: string | null;
  path: string;
}

function entries(dir: string): { name: string; isDirectory: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((entry) => ({ name: entry.name, isDirectory: entry.isDirectory() }));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return [];
    throw error;
  }
}

/**
 * The work packages of the working tree (flat and legacy lane-folder layouts), sorted by feature
 * and id. A file that cannot be read or parsed is reported through `warn` and left out.
 */
export function readWorkTree(root: string, warn: (line: string) => void): TreeWorkPackage[] {
  const found: TreeWorkPackage[] = [];
  for (const feature of entries(join(root, SPECS_DIR)).filter((entry) => entry.isDirectory)) {
    const tasks = `${SPECS_DIR}/${feature.name}/tasks`;
    const candidates: string[] = [];
    for (const entry of entries(join(root, tasks))) {
      if (entry.isDirectory) for (const inner of entries(join(root, tasks, entry.name))) candidates.push(`${tasks}/${entry.name}/${inner.name}`);
      else candidates.push(`${tasks}/${entry.name}`);
    }
    for (const path of candidates) {
      const spec = classifyPath(path);
      if (spec?.kind !== 'wp') continue;
      let text: string;
      try {
        text = readFileSync(join(root, path), 'utf8');
      } catch (error) {
        warn(`kitty: warning: ${ErrorCode.WP_UNREADABLE}: cannot read ${path} (${errnoCode(error) ?? 'error'}); left out`);
        continue;
      }
      try {
        const state = parseWorkPackage(text, path);
        found.push({ feature: spec.feature, wpId: spec.wpId, lane: spec.folderLane ?? state.lane, title: state.title, path });
      } catch (error) {
        if (!(error instanceof KittyError)) throw error;
        warn(`kitty: warning: ${error.code}: ${error.message}; left out`);
      }
    }
  }
  return found.sort((a, b) => a.feature.localeCompare(b.feature) || a.wpId.localeCompare(b.wpId, 'en', { numeric: true }));
}

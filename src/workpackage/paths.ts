import { SPECS_DIR, STATUS_LOG_NAME } from '../constants.js';

type SpecPath = { kind: 'wp'; feature: string; wpId: string; folderLane: string | null } | { kind: 'status-log'; feature: string };

const WP_FILE = /^(WP\d{2,})(?:[-_.][^/]*)?\.md$/;

/**
 * Pure: what a repository path is to kitty. `kitty-specs/<feature>/tasks/WPxx*.md` is a work package;
 * the legacy `tasks/<lane>/WPxx*.md` layout keeps the lane in the folder name.
 */
export function classifyPath(path: string): SpecPath | null {
  const parts = path.split('/');
  if (parts[0] !== SPECS_DIR || parts.length < 3) return null;
  const feature = parts[1]!;
  if (parts.length === 3 && parts[2] === STATUS_LOG_NAME) return { kind: 'status-log', feature };
  if (parts[2] !== 'tasks') return null;
  if (parts.length === 4) {
    const match = WP_FILE.exec(parts[3]!);
    return match ? { kind: 'wp', feature, wpId: match[1]!, folderLane: null } : null;
  }
  if (parts.length === 5) {
    const match = WP_FILE.exec(parts[4]!);
    return match ? { kind: 'wp', feature, wpId: match[1]!, folderLane: parts[3]! } : null;
  }
  return null;
}

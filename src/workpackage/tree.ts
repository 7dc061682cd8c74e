import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SPECS_DIR, STATUS_LOG_NAME } from '../constants.js';
import { ErrorCode, errnoCode, KittyError } from '../errors/index.js';
import { parseWorkPackage } from './frontmatter.js';
import { classifyPath } from './paths.js';
import { parseStatusLines, splitLines } from './status-log.js';

/** Where a work package's lane was read: its feature's status log, or its own file. */
export type LaneSource = 'status-log' | 'frontmatter';

export interface TreeWorkPackage {
  feature: string;
  wpId: string;
  lane: string | null;
  title: string | null;
  /** The WP file; the status log when the log tracks a WP whose file is missing. */
  path: string;
  source: LaneSource;
  /** The feature's `status.events.jsonl`, when it has one: moves are recorded there. */
  statusLog: string | null;
}

/** A WP file as found on disk; `problem` is why it could not be read, already worded for a warning. */
interface WpFile {
  wpId: string;
  path: string;
  lane: string | null;
  title: string | null;
  problem: string | null;
}

interface StatusLog {
  path: string;
  /** Lane per WP id: the `to_lane` of its last transition line. */
  lanes: Map<string, string>;
}

function entries(dir: string): { name: string; isDirectory: boolean }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((entry) => ({ name: entry.name, isDirectory: entry.isDirectory() }));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return [];
    throw error;
  }
}

function candidatePaths(root: string, feature: string): string[] {
  const tasks = `${SPECS_DIR}/${feature}/tasks`;
  const paths: string[] = [];
  for (const entry of entries(join(root, tasks))) {
    if (entry.isDirectory) for (const inner of entries(join(root, tasks, entry.name))) paths.push(`${tasks}/${entry.name}/${inner.name}`);
    else paths.push(`${tasks}/${entry.name}`);
  }
  return paths;
}

function readWpFile(root: string, path: string, wpId: string, folderLane: string | null): WpFile {
  let text: string;
  try {
    text = readFileSync(join(root, path), 'utf8');
  } catch (error) {
    return { wpId, path, lane: null, title: null, problem: `${ErrorCode.WP_UNREADABLE}: cannot read ${path} (${errnoCode(error) ?? 'error'})` };
  }
  try {
    const state = parseWorkPackage(text, path);
    // the legacy layout's folder is the lane; its frontmatter is not kept in step
    return { wpId, path, lane: folderLane ?? state.lane, title: state.title, problem: null };
  } catch (error) {
    if (!(error instanceof KittyError)) throw error;
    return { wpId, path, lane: null, title: null, problem: `${error.code}: ${error.message}` };
  }
}

function wpFiles(root: string, feature: string): WpFile[] {
  const files: WpFile[] = [];
  for (const path of candidatePaths(root, feature)) {
    const spec = classifyPath(path);
    if (spec?.kind === 'wp') files.push(readWpFile(root, path, spec.wpId, spec.folderLane));
  }
  return files;
}

/**
 * The feature's status log, or null when it has none. An unreadable log is warned about and the
 * frontmatter used instead; a bad line is warned about (file:line) and skipped.
 */
function readStatusLog(root: string, feature: string, warn: (line: string) => void): StatusLog | null {
  const path = `${SPECS_DIR}/${feature}/${STATUS_LOG_NAME}`;
  let text: string;
  try {
    text = readFileSync(join(root, path), 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    warn(`kitty: warning: ${ErrorCode.WP_UNREADABLE}: cannot read ${path} (${errnoCode(error) ?? 'error'}); lanes from the frontmatter`);
    return null;
  }
  const parsed = parseStatusLines(splitLines(text));
  for (const problem of parsed.problems) warn(`kitty: warning: skipped ${path}:${problem.line}: ${problem.message}`);
  const lanes = new Map<string, string>();
  for (const transition of parsed.transitions) lanes.set(transition.wpId, transition.toLane);
  return { path, lanes };
}

/** The canonical lanes of one feature: the log's for the WPs it tracks, the files' for the rest. */
function featureBoard(feature: string, files: WpFile[], log: StatusLog | null, warn: (line: string) => void): TreeWorkPackage[] {
  const board: TreeWorkPackage[] = [];
  const statusLog = log?.path ?? null;
  for (const file of files) {
    const logLane = log?.lanes.get(file.wpId);
    if (file.problem !== null) {
      warn(`kitty: warning: ${file.problem}; ${logLane === undefined ? 'left out' : `lane ${logLane} from ${statusLog}`}`);
      if (logLane === undefined) continue;
    }
    if (logLane !== undefined) board.push({ feature, wpId: file.wpId, lane: logLane, title: file.title, path: file.path, source: 'status-log', statusLog });
    else board.push({ feature, wpId: file.wpId, lane: file.lane, title: file.title, path: file.path, source: 'frontmatter', statusLog });
  }
  const withFile = new Set(files.map((file) => file.wpId));
  for (const [wpId, lane] of log?.lanes ?? []) {
    if (!withFile.has(wpId)) board.push({ feature, wpId, lane, title: null, path: statusLog!, source: 'status-log', statusLog });
  }
  return board;
}

/**
 * The canonical state of the working tree's work packages (flat and legacy layouts), sorted by
 * feature and id. A feature with a `status.events.jsonl` is read from its log, because newer tools
 * record moves only there and leave the frontmatter `lane` stale. Nothing here is fatal: what
 * cannot be read is reported through `warn`.
 */
export function readWorkTree(root: string, warn: (line: string) => void): TreeWorkPackage[] {
  const found: TreeWorkPackage[] = [];
  for (const feature of entries(join(root, SPECS_DIR)).filter((entry) => entry.isDirectory)) {
    const log = readStatusLog(root, feature.name, warn);
    found.push(...featureBoard(feature.name, wpFiles(root, feature.name), log, warn));
  }
  return found.sort((a, b) => a.feature.localeCompare(b.feature) || a.wpId.localeCompare(b.wpId, 'en', { numeric: true }));
}

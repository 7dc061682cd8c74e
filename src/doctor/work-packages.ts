import { isKnownLane } from '../workpackage/lanes.js';
import { readWorkTree } from '../workpackage/tree.js';

interface WorkPackagesFinding {
  count: number;
  /** One line per problem, naming the file: malformed or unreadable frontmatter, bad status lines, unknown lanes. */
  problems: string[];
}

/** The working tree's WPs as the hooks will read them: what a capture would warn about, found before committing. */
export function checkWorkPackages(root: string): WorkPackagesFinding {
  const problems: string[] = [];
  const wps = readWorkTree(root, (line) => problems.push(line.replace(/^kitty: warning: /, '')));
  for (const wp of wps) {
    if (wp.lane !== null && !isKnownLane(wp.lane)) problems.push(`${wp.path}: unknown lane "${wp.lane}"`);
  }
  return { count: wps.length, problems };
}

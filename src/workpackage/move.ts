import { parseDocument, stringify } from 'yaml';
import { appendSequenceItem, spliceYaml } from '../yaml/edit.js';
import { findFrontmatter } from './frontmatter.js';

interface HistoryItem {
  timestamp: string;
  lane: string;
  agent: string;
  action?: string;
}

/**
 * Pure: the WP file with `lane` set and one `history` entry appended, every other byte as it was
 * (comments, key order, body). Layouts the splice cannot handle go through the Document API, which
 * still keeps comments and key order.
 */
export function moveWorkPackageText(text: string, lane: string, item: HistoryItem): string {
  const frontmatter = findFrontmatter(text);
  const entry: Record<string, string> = { timestamp: item.timestamp, lane: item.lane, agent: item.agent, ...(item.action ? { action: item.action } : {}) };
  if (!frontmatter) return `---\n${appendSequenceItem(stringify({ lane }), 'history', entry)}---\n\n${text}`;
  const yamlText = frontmatter.text;
  const spliced = spliceYaml(yamlText, [{ path: ['lane'], value: lane }]);
  const withHistory = spliced === null ? null : appendSequenceItem(spliced, 'history', entry);
  let edited: string;
  if (withHistory !== null) {
    edited = withHistory;
  } else {
    const doc = parseDocument(yamlText);
    doc.set('lane', lane);
    const history = doc.get('history');
    const list = Array.isArray((history as { toJSON?: () => unknown })?.toJSON?.()) ? history : null;
    if (list) doc.addIn(['history'], entry);
    else doc.set('history', [entry]);
    edited = doc.toString();
  }
  return `${text.slice(0, frontmatter.start)}${edited.endsWith('\n') ? edited : `${edited}\n`}${text.slice(frontmatter.end)}`;
}

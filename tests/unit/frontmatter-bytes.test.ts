import { describe, expect, it } from 'vitest';
import { parseWorkPackage } from '../../src/workpackage/frontmatter.js';
import { frontmatterBytes } from '../../src/workpackage/frontmatter-bytes.js';

const FRONTMATTER = 'lane: doing\nhistory:\n  - timestamp: "2026-01-01T00:00:00Z"\n    lane: doing\n';
const BODY = '# WP01\n\nSome work.\n---\nA rule, not a close: the frontmatter closed above.\n';

const FILES: Record<string, string> = {
  plain: `---\n${FRONTMATTER}---\n${BODY}`,
  dotsClose: `---\n${FRONTMATTER}...\n${BODY}`,
  closeWithSpaces: `---\n${FRONTMATTER}--- \t\n${BODY}`,
  crlf: `---\r\n${FRONTMATTER.replaceAll('\n', '\r\n')}---\r\n${BODY}`,
  bom: `\uFEFF---\n${FRONTMATTER}---\n${BODY}`,
  closeAtEnd: `---\n${FRONTMATTER}---`,
  notACloseFirst: `---\n${FRONTMATTER}----\n---x\n...more\n---\n${BODY}`,
  malformed: `---\nlane: [doing\n---\n${BODY}`,
  emptyFrontmatter: `---\n---\n${BODY}`,
  neverClosed: `---\n${FRONTMATTER}`,
  noFrontmatter: BODY,
  openNotAlone: `--- x\n${FRONTMATTER}---\n${BODY}`,
  multibyteBody: `---\n${FRONTMATTER}title: "é ✓"\n---\n${'ünïcödé ✓ '.repeat(100)}`,
};

/** The state, or the error a malformed file gets (the same either way). */
function outcome(text: string, label: string): unknown {
  try {
    return parseWorkPackage(text, label);
  } catch (error) {
    return String(error);
  }
}

describe('frontmatterBytes', () => {
  for (const [name, text] of Object.entries(FILES)) {
    it(`reads the same state from its prefix as from the whole file: ${name}`, () => {
      const bytes = Buffer.from(text);
      const prefix = bytes.toString('utf8', 0, frontmatterBytes(bytes));
      expect(outcome(prefix, name)).toEqual(outcome(text, name));
    });
  }

  it('leaves the body out when the frontmatter closes', () => {
    const bytes = Buffer.from(FILES.plain!);
    expect(bytes.toString('utf8', 0, frontmatterBytes(bytes))).toBe(`---\n${FRONTMATTER}---\n`);
    const notFirst = Buffer.from(FILES.notACloseFirst!);
    expect(notFirst.toString('utf8', 0, frontmatterBytes(notFirst)).endsWith('...more\n---\n')).toBe(true);
  });

  it('keeps the whole file when there is no closed frontmatter to cut at', () => {
    for (const name of ['neverClosed', 'noFrontmatter', 'openNotAlone']) {
      const bytes = Buffer.from(FILES[name]!);
      expect(frontmatterBytes(bytes)).toBe(bytes.length);
    }
  });
});

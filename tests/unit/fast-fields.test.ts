import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fastFields } from '../../src/workpackage/fast-fields.js';

const SAMPLES: Record<string, string> = {
  plain: 'title: A\nlane: doing\nhistory:\n  - timestamp: "2026-01-01T00:00:00Z"\n    lane: planned\n    agent: a\n',
  quoted: "lane: \"for_review\"\ntitle: 'It''s'\n",
  comments:
    '# top\nlane: done # inline\n# between\nhistory:\n  # before first\n  - timestamp: x\n    # inside\n    lane: doing\n\n  - timestamp: y\n    lane: done\n',
  crlf: 'lane: doing\r\nhistory:\r\n  - timestamp: t\r\n    lane: doing\r\n',
  otherKeys: 'subtasks:\n  - T001\n  - T002\ndescription: |\n  multi\n  line: not a key\nlane: planned\ndependencies: [WP01, WP02]\n',
  flowHistory: 'lane: planned\nhistory: []\n',
  flowHistory2: 'lane: planned\nhistory: [{timestamp: t, lane: doing}]\n',
  indentZeroSeq: 'lane: planned\nhistory:\n- timestamp: t\n  lane: doing\n',
  nested: 'history:\n  - timestamp: t\n    lane: doing\n    meta:\n      a: 1\n      b: [1, 2]\n  -   timestamp: u\n      lane: done\n',
  anchors: 'base: &b doing\nlane: *b\n',
  duplicate: 'lane: planned\nlane: done\n',
  multilineTitle: 'title: a long\n  title here\nlane: doing\n',
  flowAcrossLines: 'tags: [a,\nb]\nlane: doing\n',
  emptyValues: 'lane:\ntitle:\nhistory:\n',
  numbersAndBools: 'lane: 123\ntitle: true\n',
  deepItem: 'history:\n    - timestamp: t\n      lane: doing\n    - timestamp: u\n      lane: done\n',
  mergeKey: 'defaults: &d {lane: doing}\n<<: *d\n',
  quotedKey: '"lane": doing\n',
  scalars:
    "lane: in_progress\nhistory:\n  - timestamp: 2026-01-01T00:00:00Z\n    lane: 'done'\n    agent: \"claude\"\n    shell_pid: ''\n    action: Prompt generated via /spec-kitty.tasks\n  - timestamp: '2026-01-02T00:00:00+09:00'\n    lane: doing\n    agent:\n    note: it's fine\n",
  notStrings:
    'history:\n  - timestamp: 2026-01-01\n    lane: null\n    agent: 42\n    shell_pid: -7\n    zero: 0\n    octalish: 012\n    big: 123456789012345678\n  - timestamp: t\n    lane: True\n    agent: ~\n  - timestamp: 1e3\n    lane: 0x1F\n',
  trickyPlain: 'lane: doing # note\nhistory:\n  - timestamp: "t"\n    lane: "with \\"escape\\""\n  - timestamp: t\n    lane: a:b\n    agent: x #y\n',
  nestedUnderKey: 'history:\n  - timestamp: t\n    meta:\n      lane: inner\n    lane: outer\n',
  protoKey: 'history:\n  - __proto__: x\n    timestamp: t\n    lane: doing\n  - constructor: y\n    timestamp: u\n    lane: done\n',
};

describe('fast frontmatter fields', () => {
  for (const [name, text] of Object.entries(SAMPLES)) {
    it(`agrees with a full parse, or declines: ${name}`, () => {
      const fast = fastFields(text);
      if (fast === null) return;
      const full = parse(text, { uniqueKeys: false, merge: true }) as Record<string, unknown> | null;
      expect(fast).toEqual({ lane: full?.lane, title: full?.title, history: full?.history });
    });
  }

  it('handles the common shapes itself rather than declining', () => {
    for (const name of [
      'plain',
      'quoted',
      'comments',
      'crlf',
      'otherKeys',
      'flowHistory',
      'nested',
      'deepItem',
      'multilineTitle',
      'duplicate',
      'scalars',
      'notStrings',
      'trickyPlain',
      'nestedUnderKey',
      'protoKey',
    ]) {
      expect(fastFields(SAMPLES[name]!), name).not.toBeNull();
    }
  });

  it('declines what it cannot slice safely', () => {
    for (const name of ['indentZeroSeq', 'anchors', 'flowAcrossLines', 'mergeKey', 'quotedKey']) {
      expect(fastFields(SAMPLES[name]!), name).toBeNull();
    }
  });

  it('declines malformed pieces so the full parse reports them', () => {
    expect(fastFields('lane: [unclosed\n')).toBeNull();
    expect(fastFields('history:\n  - timestamp: t\n    lane: [x\n')).toBeNull();
  });
});

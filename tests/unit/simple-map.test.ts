import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/identity/config-file.js';
import { readSimpleMap, simpleGet } from '../../src/yaml/simple-map.js';
import { ROOT } from '../helpers/gitdir.js';

const CONFIG = `# kitty project configuration.

project:
  # Generated once; never change it.
  uuid: 0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e
  slug: 'it''s-mine'
  node_id: "b805cd5cee74"   # a comment after a value

sync:
  auto_start: false
  # server_url: https://kitty.example.com
  server_url: https://kitty.example.com:8443/base
wp_move:
empty:
top: value # with a comment
`;

/** Values a config holds, read without the library: ids, slugs, URLs, booleans, null, quoted text. */
const READ = [
  'plain-slug',
  '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e',
  'e0def75b-8499-4075-980c-ec8b38b3bc79',
  'true',
  'False',
  'TRUE',
  'yes',
  'off',
  'null',
  '~',
  'Null',
  '',
  '"quoted # not a comment"',
  "'single ''quote'''",
  'https://kitty.example.com',
  'a:b',
  'value # comment',
];

/** Values the core schema reads as something other than the string they look like, or that need the library. */
const LEFT = [
  '123456789012',
  '12e3',
  '0x1F',
  '0o17',
  '.5',
  '1.',
  '-1',
  '+2',
  '.inf',
  '-.Inf',
  '.NaN',
  '"escaped \\" quote"',
  'ends:',
  '@reserved',
  '`reserved',
  '[1, 2]',
  '{a: 1}',
  '- item',
  '&anchor value',
  '*alias',
  '!tag value',
  '|',
  '>',
  'two words',
  'a#b',
  '%directive',
];

const texts = (value: string) => [`key: ${value}\n`, `section:\n  key: ${value}\n`];

describe('simple YAML maps, read without the library', () => {
  it("reads kitty's config layout as the YAML library does", () => {
    const map = readSimpleMap(CONFIG);
    expect(map).toEqual(parse(CONFIG));
    expect(simpleGet(map!, ['project', 'uuid'])).toBe('0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e');
    expect(simpleGet(map!, ['sync', 'missing'])).toBeUndefined();
    expect(simpleGet(map!, ['wp_move', 'message'])).toBeUndefined();
    expect(simpleGet(map!, ['top', 'deeper'])).toBeUndefined();
  });

  it.each(READ)('reads `key: %s` itself, as the library does', (value) => {
    for (const text of texts(value)) expect(readSimpleMap(text)).toEqual(parse(text));
  });

  it.each(LEFT)('leaves `key: %s` to the library', (value) => {
    for (const text of texts(value)) expect(readSimpleMap(text)).toBeNull();
  });

  it('leaves every other shape to the library', () => {
    for (const text of [
      'a:\n  b:\n    c: 1\n',
      'a:\n  - one\n',
      'a:\n  b: 1\n   c: 2\n',
      'a:\n  b: x\n  b: y\n',
      'a: x\na: y\n',
      'a: x\n  b: y\n',
      '---\na: x\n',
      'a: x\r\n',
      '\uFEFFa: x\n',
      '__proto__:\n  polluted: yes\n',
      'a:\n  __proto__: x\n',
      'null:\n  a: x\n',
      '? complex\n: key\n',
      'a: "multi\n  line"\n',
      '\ta: x\n',
      'a:#x\n',
      'a:\n  b:#x\n',
      'a: b\u00a0\n',
      'a:\n  b: "x"\u00a0\n',
      'a: b\f\n',
      '',
      '# only a comment\n',
    ]) {
      expect(readSimpleMap(text), JSON.stringify(text)).toBeNull();
    }
  });

  it("reads kitty's config template without the library", () => {
    const template = readFileSync(join(ROOT, '.kittify-template', 'config.yaml'), 'utf8');
    expect(readSimpleMap(template)).toEqual(parse(template));
  });

  it('the config reader gives the same values either way, and the document when asked', () => {
    const simple = parseConfig(CONFIG);
    const viaLibrary = parseConfig(`${CONFIG}list:\n  - one\n`);
    expect(simple.kind).toBe('ok');
    expect(viaLibrary.kind).toBe('ok');
    if (simple.kind !== 'ok' || viaLibrary.kind !== 'ok') return;
    expect(simple.values).toEqual(viaLibrary.values);
    expect(simple.values).toMatchObject({ uuid: '0b5c7d4e-1f2a-4b3c-8d9e-0f1a2b3c4d5e', slug: "it's-mine", autoStart: false });
    expect(simple.get(['sync', 'server_url'])).toBe(viaLibrary.get(['sync', 'server_url']));
    expect(simple.doc().getIn(['project', 'node_id'])).toBe('b805cd5cee74');
    expect(parseConfig('project: [1,\n')).toMatchObject({ kind: 'malformed' });
  });
});

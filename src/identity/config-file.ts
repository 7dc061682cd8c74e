import { readFileSync } from 'node:fs';
import type { Document } from 'yaml';
import { ErrorCode, errnoCode, KittyError } from '../errors/index.js';
import { spliceYaml, type YamlEdit } from '../yaml/edit.js';
import { yaml } from '../yaml/lazy.js';
import { readSimpleMap, simpleGet } from '../yaml/simple-map.js';

export interface ConfigValues {
  uuid: string | null;
  slug: string | null;
  nodeId: string | null;
  autoStart: boolean;
  serverUrl: string | null;
}

export type ConfigRead =
  | { kind: 'absent' }
  | {
      kind: 'ok';
      text: string;
      values: ConfigValues;
      /** A scalar by its path, as the YAML library's `getIn` gives it (undefined: none). */
      get(path: readonly string[]): unknown;
      /** The parsed document (comments and layout kept), parsed on first use. */
      doc(): Document;
    }
  | { kind: 'malformed'; text: string; line: number; reason: string };

const TEMPLATE_URL = new URL('../../.kittify-template/config.yaml', import.meta.url);

export function templateText(): string {
  return readFileSync(TEMPLATE_URL, 'utf8');
}

function text(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() || null;
  return null;
}

function configValues(get: (path: readonly string[]) => unknown): ConfigValues {
  const autoStart = get(['sync', 'auto_start']);
  return {
    uuid: text(get(['project', 'uuid'])),
    slug: text(get(['project', 'slug'])),
    nodeId: text(get(['project', 'node_id'])),
    autoStart: autoStart !== false && autoStart !== 'false',
    serverUrl: text(get(['sync', 'server_url'])),
  };
}

/**
 * Pure: parses config text, reporting malformed YAML with its line instead of throwing. The layout
 * kitty writes is read without the YAML library (a hook's worker reads the config on every commit);
 * any other goes through it.
 */
export function parseConfig(content: string): ConfigRead {
  const simple = readSimpleMap(content);
  if (simple) {
    const get = (path: readonly string[]): unknown => simpleGet(simple, path);
    let parsed: Document | undefined;
    const doc = (): Document => (parsed ??= yaml().parseDocument(content, { prettyErrors: false }));
    return { kind: 'ok', text: content, values: configValues(get), get, doc };
  }
  const doc = yaml().parseDocument(content, { prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    return { kind: 'malformed', text: content, line: error.linePos?.[0].line ?? 1, reason: error.message.split('\n')[0]! };
  }
  if (doc.contents !== null && !yaml().isMap(doc.contents)) {
    return { kind: 'malformed', text: content, line: 1, reason: 'the top level is not a mapping of keys' };
  }
  const get = (path: readonly string[]): unknown => doc.getIn(path);
  return { kind: 'ok', text: content, values: configValues(get), get, doc: () => doc };
}

export function readConfig(path: string): ConfigRead {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return { kind: 'absent' };
    throw new KittyError(ErrorCode.CONFIG_UNREADABLE, `cannot read ${path} (${errnoCode(error) ?? 'error'})`, {
      cause: error,
      hint: `make it readable, e.g. \`chmod u+r ${path}\``,
    });
  }
  return parseConfig(content);
}

/**
 * Pure: the config text with identity values set. Values are spliced into the original text, so
 * every other byte stays; only a layout the splice cannot handle goes through the Document API,
 * which still keeps comments, key order and unknown keys.
 */
export function applyIdentity(read: Extract<ConfigRead, { kind: 'ok' }>, values: { uuid: string; slug: string; nodeId: string }): string {
  const current = read.values;
  const edits: YamlEdit[] = [];
  if (current.uuid !== values.uuid) edits.push({ path: ['project', 'uuid'], value: values.uuid });
  if (current.slug !== values.slug) edits.push({ path: ['project', 'slug'], value: values.slug });
  if (current.nodeId === null) edits.push({ path: ['project', 'node_id'], value: values.nodeId });
  if (read.get(['sync', 'auto_start']) === undefined) edits.push({ path: ['sync', 'auto_start'], value: true });
  const spliced = spliceYaml(read.text, edits);
  if (spliced !== null) return spliced;
  const doc = read.doc().clone();
  if (doc.contents === null) doc.contents = doc.createNode({}) as Document['contents'];
  for (const edit of edits) doc.setIn(edit.path, edit.value);
  return doc.toString();
}

/** The uuid a malformed file held, so repairing it never changes the project's identity. */
export function salvageUuid(content: string): string | null {
  const match = /^\s*uuid\s*:\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/im.exec(content);
  return match ? match[1]!.toLowerCase() : null;
}

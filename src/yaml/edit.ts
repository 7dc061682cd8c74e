import type { Document, Node, YAMLMap } from 'yaml';
import { yaml } from './lazy.js';

export interface YamlEdit {
  path: readonly string[];
  value: string | number | boolean;
}

function scalarText(value: YamlEdit['value']): string {
  // stringify quotes what would otherwise read back as another type (e.g. an all-digit node id)
  return yaml().stringify(value).trimEnd();
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function lineEnd(text: string, offset: number): number {
  const end = text.indexOf('\n', offset);
  return end < 0 ? text.length : end;
}

function blockMap(node: unknown): YAMLMap | null {
  return yaml().isMap(node) && !node.flow && node.items.length > 0 ? node : null;
}

/**
 * Applies edits to YAML text by splicing only the changed values, so every other byte (comments,
 * spacing, key order, unknown keys) stays as the user wrote it. Returns null when an edit needs
 * a structural change it cannot splice (e.g. a flow mapping), for the caller to fall back on.
 */
export function spliceYaml(text: string, edits: readonly YamlEdit[]): string | null {
  let result = text;
  for (const edit of edits) {
    const doc: Document = yaml().parseDocument(result);
    if (doc.errors.length > 0) return null;
    const existing = doc.getIn(edit.path, true) as Node | undefined;
    if (existing !== undefined) {
      if (!yaml().isScalar(existing) || !existing.range) return null;
      const [start, end] = existing.range;
      result = `${result.slice(0, start)}${scalarText(edit.value)}${result.slice(end)}`;
      continue;
    }
    const parentPath = edit.path.slice(0, -1);
    const key = edit.path.at(-1)!;
    const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
    const map = blockMap(parent);
    if (map) {
      const first = map.items[0]!.key as Node;
      const last = map.items.at(-1)!;
      const lastEnd = ((last.value as Node | null)?.range ?? (last.key as Node).range)?.[1];
      if (!first.range || lastEnd === undefined) return null;
      const indent = first.range[0] - lineStart(result, first.range[0]);
      const at = lineEnd(result, Math.max(lastEnd - 1, 0));
      result = `${result.slice(0, at)}\n${' '.repeat(indent)}${key}: ${scalarText(edit.value)}${result.slice(at)}`;
      continue;
    }
    if (parent !== undefined && parent !== null) return null;
    if (parentPath.length === 1 && (doc.contents === null || blockMap(doc.contents))) {
      const separator = result === '' || result.endsWith('\n') ? '' : '\n';
      result = `${result}${separator}${parentPath[0]}:\n  ${key}: ${scalarText(edit.value)}\n`;
      continue;
    }
    return null;
  }
  return result;
}

/**
 * Appends an item (a mapping of scalars) to the block sequence under top-level `key`, or creates
 * `key:` with it at the end; every other byte stays. null when `key` holds something else (e.g. a
 * flow sequence), for the caller to fall back on.
 */
export function appendSequenceItem(text: string, key: string, item: Record<string, string>): string | null {
  const doc = yaml().parseDocument(text);
  if (doc.errors.length > 0) return null;
  const render = (indent: string): string =>
    Object.entries(item)
      .map(([name, value], index) => `${indent}${index === 0 ? '- ' : '  '}${name}: ${scalarText(value)}`)
      .join('\n');
  const existing = doc.get(key, true) as Node | undefined;
  if (existing === undefined || (yaml().isScalar(existing) && existing.value === null)) {
    if (existing !== undefined) {
      const pair = (doc.contents as YAMLMap).items.find((p) => yaml().isScalar(p.key) && p.key.value === key);
      const keyNode = pair?.key as Node | undefined;
      if (!keyNode?.range) return null;
      const at = lineEnd(text, keyNode.range[0]);
      const line = text.slice(lineStart(text, keyNode.range[0]), at);
      if (!/^\s*[\w.-]+\s*:\s*(?:~|null)?\s*(?:#.*)?$/.test(line)) return null;
      return `${text.slice(0, lineStart(text, keyNode.range[0]))}${key}:\n${render('  ')}${text.slice(at)}`;
    }
    const separator = text === '' || text.endsWith('\n') ? '' : '\n';
    return `${text}${separator}${key}:\n${render('  ')}\n`;
  }
  if (!yaml().isSeq(existing) || existing.flow || existing.items.length === 0 || !existing.range) return null;
  const first = existing.items[0] as Node;
  if (!first.range) return null;
  const dash = text.lastIndexOf('-', first.range[0]);
  const indent = ' '.repeat(dash - lineStart(text, dash));
  const last = existing.items.at(-1) as Node;
  const at = lineEnd(text, Math.max((last.range?.[1] ?? existing.range[1]) - 1, 0));
  return `${text.slice(0, at)}\n${render(indent)}${text.slice(at)}`;
}

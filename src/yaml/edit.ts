import { isMap, isScalar, parseDocument, stringify, type Document, type Node, type YAMLMap } from 'yaml';

export interface YamlEdit {
  path: readonly string[];
  value: string | number | boolean;
}

function scalarText(value: YamlEdit['value']): string {
  // stringify quotes what would otherwise read back as another type (e.g. an all-digit node id)
  return stringify(value).trimEnd();
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

function lineEnd(text: string, offset: number): number {
  const end = text.indexOf('\n', offset);
  return end < 0 ? text.length : end;
}

function blockMap(node: unknown): YAMLMap | null {
  return isMap(node) && !node.flow && node.items.length > 0 ? node : null;
}

/**
 * Applies edits to YAML text by splicing only the changed values, so every other byte (comments,
 * spacing, key order, unknown keys) stays as the user wrote it. Returns null when an edit needs
 * a structural change it cannot splice (e.g. a flow mapping), for the caller to fall back on.
 */
export function spliceYaml(text: string, edits: readonly YamlEdit[]): string | null {
  let result = text;
  for (const edit of edits) {
    const doc: Document = parseDocument(result);
    if (doc.errors.length > 0) return null;
    const existing = doc.getIn(edit.path, true) as Node | undefined;
    if (existing !== undefined) {
      if (!isScalar(existing) || !existing.range) return null;
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

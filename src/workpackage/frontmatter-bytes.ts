const NEWLINE = 0x0a;
const OPEN = Buffer.from('---');
const CLOSERS = [Buffer.from('\n---'), Buffer.from('\n...')];

/** Three marker bytes (`---` or `...`), then only spaces, tabs and a carriage return up to the line's end. */
function isCloseLine(bytes: Uint8Array, at: number): boolean {
  let end = at + 3;
  while (end < bytes.length && (bytes[end] === 0x20 || bytes[end] === 0x09)) end++;
  if (end < bytes.length && bytes[end] === 0x0d) end++;
  return end === bytes.length || bytes[end] === NEWLINE;
}

/**
 * Pure: how many leading bytes of a work-package file hold everything `parseWorkPackage` reads
 * (the frontmatter through its closing line), so that a body of many KB is never decoded. The
 * whole length when the file opens no frontmatter block or never closes it: the parser then
 * decides, as it would on the whole text.
 */
export function frontmatterBytes(bytes: Buffer): number {
  const open = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  if (!bytes.subarray(open, open + 3).equals(OPEN) || !isCloseLine(bytes, open)) return bytes.length;
  const firstLineEnd = bytes.indexOf(NEWLINE, open);
  if (firstLineEnd < 0) return bytes.length;
  let from = firstLineEnd;
  for (;;) {
    const at = Math.min(...CLOSERS.map((closer) => bytes.indexOf(closer, from)).map((at) => (at < 0 ? Number.POSITIVE_INFINITY : at)));
    if (at === Number.POSITIVE_INFINITY) return bytes.length;
    if (isCloseLine(bytes, at + 1)) {
      const end = bytes.indexOf(NEWLINE, at + 1);
      return end < 0 ? bytes.length : end + 1;
    }
    from = at + 1;
  }
}

/**
 * Cuts a page from rows read in server order (at most `limit` + 1 of them): at most `limit` events
 * and about `maxBytes`, always at least one, so a page always moves on; `more` says whether to ask again.
 */
export function pageOf(rows: Iterable<{ envelope: string }>, limit: number, maxBytes: number): { events: string[]; more: boolean } {
  const events: string[] = [];
  let bytes = 0;
  for (const row of rows) {
    if (events.length === limit || (events.length > 0 && bytes + row.envelope.length > maxBytes)) return { events, more: true };
    events.push(row.envelope);
    bytes += row.envelope.length;
  }
  return { events, more: false };
}

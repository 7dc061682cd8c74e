/** The commit message of `kitty wp move` when neither -m nor `wp_move.message` in the config gives one. */
export const DEFAULT_MOVE_MESSAGE = '{wp}: {from} → {to}';

interface MoveFacts {
  wp: string;
  from: string | null;
  to: string;
  feature: string;
  note: string | null;
}

/**
 * Pure: the template with {wp} {from} {to} {feature} {note} filled in; other braces stay as
 * written. A note the template does not place goes into the message body, as git users expect.
 */
export function moveMessage(template: string, facts: MoveFacts): string {
  const values: Record<string, string> = { wp: facts.wp, from: facts.from ?? 'no lane', to: facts.to, feature: facts.feature, note: facts.note ?? '' };
  const filled = template.replace(/\{(wp|from|to|feature|note)\}/g, (_, key: string) => values[key]!);
  return facts.note && !template.includes('{note}') ? `${filled}\n\n${facts.note}` : filled;
}

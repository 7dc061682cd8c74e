import { ErrorCode, KittyError } from '../../errors/index.js';
import { repoInfo } from '../../git/repo.js';
import { boardColumn, boardLanes } from '../../workpackage/lanes.js';
import { type LaneSource, readWorkTree, type TreeWorkPackage } from '../../workpackage/tree.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, painter, printJson, sanitize, warner } from '../output.js';

export function boardJson(wps: readonly TreeWorkPackage[]) {
  const features: Record<string, Record<string, { lane: string | null; title: string | null; path: string; source: LaneSource }>> = {};
  for (const wp of wps) {
    features[wp.feature] ??= {};
    features[wp.feature]![wp.wpId] = { lane: wp.lane, title: wp.title, path: wp.path, source: wp.source };
  }
  return { features };
}

export const command: Command = {
  help: `Usage: kitty board [--feature SLUG] [--json]

The board of the working tree: for each feature, its lanes as columns and the work packages under
them. Every lane of the vocabulary in use is shown, empty or not: the 4 lanes (planned, doing,
for_review, done), or the 9 as soon as a WP is in a lane only they have (a WP in \`doing\` then
shows under \`in_progress\`, its name there); unknown lanes after them. A feature with a
status.events.jsonl takes its lanes from that log (the frontmatter \`lane\` of such a feature is
often stale); other features from the frontmatter. Colour when the terminal supports it (NO_COLOR
turns it off).

Options:
  --feature SLUG  only this feature
  --json          print {features: {<slug>: {<WP>: {lane, title, path, source}}}} as JSON
                  (source: status-log or frontmatter)
  -h, --help      show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { feature: { type: 'string' }, json: { type: 'boolean' } }, 'kitty board');
    const repo = await repoInfo(io.cwd, io.env);
    let wps = readWorkTree(repo.root, warner(io));
    if (values.feature) {
      const features = [...new Set(wps.map((wp) => wp.feature))];
      if (!features.includes(values.feature)) {
        throw new KittyError(ErrorCode.USAGE, `kitty board: no feature "${values.feature}" in kitty-specs/`, {
          hint: features.length ? `features here: ${features.join(', ')}` : 'this repository has no kitty-specs/<feature>/tasks/ yet',
        });
      }
      wps = wps.filter((wp) => wp.feature === values.feature);
    }
    if (values.json) {
      printJson(io, boardJson(wps));
      return 0;
    }
    if (wps.length === 0) {
      io.stdout.write('no work packages in kitty-specs/<feature>/tasks/\n');
      return 0;
    }
    const paint = painter(io.stdout, io.env);
    const colors: Record<string, (text: string) => string> = {
      done: paint.green,
      doing: paint.cyan,
      in_progress: paint.cyan,
      for_review: paint.yellow,
      in_review: paint.yellow,
      blocked: paint.red,
      canceled: paint.dim,
    };
    const width = Math.max(60, Math.min(Number(io.env.COLUMNS) || (io.stdout as { columns?: number }).columns || 100, 200));
    for (const feature of [...new Set(wps.map((wp) => wp.feature))]) {
      const mine = wps.filter((wp) => wp.feature === feature);
      const lanes = boardLanes(mine.map((wp) => wp.lane ?? '(no lane)'));
      const columns = lanes.map((lane) => mine.filter((wp) => boardColumn(lanes, wp.lane ?? '(no lane)') === lane));
      const column = Math.max(14, Math.floor((width - lanes.length) / lanes.length));
      const cell = (raw: string, index: number) => {
        const text = sanitize(raw);
        const fitted = text.length > column - 1 ? `${text.slice(0, column - 2)}…` : text;
        return index === lanes.length - 1 ? fitted : fitted.padEnd(column);
      };
      io.stdout.write(`${paint.bold(sanitize(feature))}\n`);
      io.stdout.write(`${lanes.map((lane, i) => (colors[lane] ?? paint.bold)(cell(`${lane} (${columns[i]!.length})`, i))).join(' ')}\n`);
      const rows = Math.max(...columns.map((items) => items.length));
      for (let row = 0; row < rows; row++) {
        io.stdout.write(
          `${columns
            .map((items, i) => cell(items[row] ? `${items[row]!.wpId} ${items[row]!.title ?? ''}`.trim() : '', i))
            .join(' ')
            .trimEnd()}\n`,
        );
      }
      io.stdout.write('\n');
    }
    return 0;
  },
};

import { resolveIdentity } from '../../identity/index.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, sanitize, warner } from '../output.js';
import { identityJson } from './identity.js';

export const help = `Usage: kitty init [--strict] [--json]

Creates .kittify/config.yaml from the commented template if it is absent and backfills the project
identity (project.uuid, project.slug, project.node_id). Existing values, comments and unknown keys
are kept. A malformed file is backed up as config.yaml.bak-<time> and repaired (its uuid is kept).

Options:
  --strict   refuse a malformed config instead of repairing it
  --json     print {project_uuid, project_slug, node_id, source} as JSON
  -h, --help show this help`;

export const command: Command = {
  help,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { strict: { type: 'boolean' }, json: { type: 'boolean' } }, 'kitty init');
    const identity = await resolveIdentity({ cwd: io.cwd, env: io.env, write: true, strict: Boolean(values.strict), warn: warner(io) });
    if (values.json) {
      printJson(io, identityJson(identity));
      return 0;
    }
    const what = {
      written: `wrote the project identity to ${identity.configPath}`,
      file: `project identity already in ${identity.configPath}`,
      memory: `project identity held in memory; ${identity.configPath} was not written`,
    }[identity.source];
    io.stdout.write(`${sanitize(`kitty: ${what}`)}\n`);
    io.stdout.write(
      `  project_uuid  ${sanitize(identity.projectUuid)}\n  project_slug  ${sanitize(identity.projectSlug)}\n  node_id       ${sanitize(identity.nodeId)}\n`,
    );
    if (identity.source === 'written') io.stdout.write('Commit .kittify/config.yaml so every clone shares this identity.\n');
    return 0;
  },
};

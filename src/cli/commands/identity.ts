import { type Identity, resolveIdentity } from '../../identity/index.js';
import { parse } from '../args.js';
import type { Command } from '../command.js';
import { type Io, printJson, sanitize, warner } from '../output.js';

export function identityJson(identity: Identity) {
  return {
    project_uuid: identity.projectUuid,
    project_slug: identity.projectSlug,
    node_id: identity.nodeId,
    source: identity.source,
  };
}

export const command: Command = {
  help: `Usage: kitty identity [--json]

Prints the project identity events are stamped with. On first use it is generated and written to
.kittify/config.yaml; in a read-only checkout it is held in memory (derived from the repository, so
every process agrees) and a warning says so.

source: "file" (read), "written" (just generated) or "memory" (not persisted).

Options:
  --json     print {project_uuid, project_slug, node_id, source} as JSON
  -h, --help show this help`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parse(argv, { json: { type: 'boolean' } }, 'kitty identity');
    const identity = await resolveIdentity({ cwd: io.cwd, env: io.env, write: true, warn: warner(io) });
    if (values.json) {
      printJson(io, identityJson(identity));
      return 0;
    }
    for (const [key, value] of Object.entries(identityJson(identity))) io.stdout.write(`${key.padEnd(13)} ${sanitize(value)}\n`);
    return 0;
  },
};

/**
 * `npm run migrations:generate [-- --name "<what changed>"] [--custom] [--registry]`
 *
 * Tenant databases: compares the record descriptions (src/entities) with the committed snapshot
 * and writes the next migration plus the new snapshot; nothing to do when they match.
 * `--custom` writes one anyway, with TODO comments for what must be written by hand.
 * `--registry`: the registry's tables are not derived from descriptions; this writes an empty
 * numbered registry migration to fill in.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { deriveSchema } from '../src/derive/schema.js';
import { entities, entityNamed } from '../src/entities/index.js';
import { generateMigration } from './migrations/generate.js';

const { values } = parseArgs({
  options: { name: { type: 'string' }, custom: { type: 'boolean', default: false }, registry: { type: 'boolean', default: false } },
});
const folder = (kind: string) => fileURLToPath(new URL(`../src/store/migrations/${kind}/`, import.meta.url));
try {
  const generated = values.registry
    ? await generateMigration({ dir: folder('registry'), custom: true, ...(values.name ? { name: values.name } : {}) })
    : await generateMigration({
        dir: folder('tenant'),
        schema: deriveSchema(entities, entityNamed),
        custom: values.custom,
        ...(values.name ? { name: values.name } : {}),
      });
  if (!generated) {
    console.log('The record descriptions match the snapshot: no migration needed.');
  } else {
    console.log(`Wrote ${generated.file} (${generated.statements.length} statements).`);
    for (const item of generated.todo) console.log(`  TODO by hand: ${item}`);
  }
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
}

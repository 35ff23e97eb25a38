import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SchemaSnapshot } from '../../src/derive/schema.js';
import { diffSchemas, emptySchema } from './diff.js';

/**
 * Writes the next numbered migration of a migrations folder (`NNNN_<slug>.ts`, a plain module
 * with the SQL), its `index.ts` (every migration in order) and, for a folder with a snapshot, the
 * new `snapshot.json`: the drizzle-kit way, without its runtime.
 */
export interface GenerateOptions {
  readonly dir: string;
  /** The schema the descriptions ask for; absent for a hand-written-only folder (the registry). */
  readonly schema?: SchemaSnapshot;
  readonly name?: string;
  /**
   * Write the migration even when some changes cannot be generated, with a comment per change to
   * handle by hand (and an empty one when nothing changed): for data moves and the like.
   */
  readonly custom?: boolean;
}

export interface Generated {
  readonly version: number;
  readonly file: string;
  readonly statements: readonly string[];
  readonly todo: readonly string[];
}

const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.ts$/;
export const SNAPSHOT_FILE = 'snapshot.json';

export async function readSnapshot(dir: string): Promise<SchemaSnapshot> {
  try {
    return JSON.parse(await readFile(join(dir, SNAPSHOT_FILE), 'utf8')) as SchemaSnapshot;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return emptySchema;
    throw error;
  }
}

export async function migrationFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((file) => MIGRATION_FILE.test(file)).sort();
}

/** Returns null when the descriptions match the snapshot (and no custom migration was asked for). */
export async function generateMigration(options: GenerateOptions): Promise<Generated | null> {
  const diff = options.schema ? diffSchemas(await readSnapshot(options.dir), options.schema) : { statements: [], unsupported: [], changes: [] };
  if (!options.custom) {
    if (!options.schema) throw new Error('this folder has no snapshot: write its migrations by hand (--custom)');
    if (diff.unsupported.length) {
      throw new Error(
        `these changes cannot be generated safely:\n  - ${diff.unsupported.join('\n  - ')}\n` +
          'Run again with --custom to get a migration with these marked TODO, and write the SQL that keeps the existing rows.',
      );
    }
    if (!diff.statements.length) return null;
  }
  const files = await migrationFiles(options.dir);
  const version = files.length ? Number(MIGRATION_FILE.exec(files.at(-1)!)![1]) + 1 : 1;
  const name = options.name ?? (diff.changes.length ? summarise(diff.changes) : 'custom');
  const words = name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
  // At most 40 characters, cut between words.
  const slug = (words.length > 40 ? words.slice(0, 41).replace(/_[^_]*$/, '') : words) || 'migration';
  const file = `${String(version).padStart(4, '0')}_${slug}.ts`;
  await writeFile(join(options.dir, file), migrationModule(version, name, diff.statements, diff.unsupported));
  await writeFile(join(options.dir, 'index.ts'), indexModule([...files, file]));
  if (options.schema) await writeFile(join(options.dir, SNAPSHOT_FILE), `${JSON.stringify(options.schema, null, 2)}\n`);
  return { version, file, statements: diff.statements, todo: diff.unsupported };
}

function summarise(changes: readonly string[]): string {
  return changes.length <= 2 ? changes.join(', ') : `${changes[0]} and ${changes.length - 1} more changes`;
}

/** A statement as a TypeScript string literal: a template literal when that needs no escaping (readable DDL). */
function literal(sql: string): string {
  return /[`\\]|\$\{/.test(sql) ? JSON.stringify(sql) : `\`${sql}\``;
}

function migrationModule(version: number, name: string, statements: readonly string[], todo: readonly string[]): string {
  const lines = [
    '// Written by `npm run migrations:generate`. Once released, a migration never changes: change the',
    '// record descriptions and generate the next one instead.',
    ...todo.map((item) => `// TODO (by hand, keeping existing rows): ${item}`),
    'export default {',
    `  version: ${version},`,
    `  name: ${JSON.stringify(name)},`,
    `  statements: [${statements.length ? '' : ']'}`,
    ...(statements.length ? [...statements.map((sql) => `    ${literal(sql)},`), '  ],'] : []),
    '};',
    '',
  ];
  return lines.join('\n');
}

function indexModule(files: readonly string[]): string {
  const name = (file: string) => `m${file.slice(0, 4)}`;
  return [
    '// Written by `npm run migrations:generate`: every migration of this folder, in order.',
    ...files.map((file) => `import ${name(file)} from './${file.replace(/\.ts$/, '.js')}';`),
    '',
    `export const migrations = [${files.map(name).join(', ')}];`,
    '',
  ].join('\n');
}

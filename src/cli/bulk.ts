import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { entities, type Entity } from '../entities/index.js';
import { ApiClient, credentialsFrom, CredentialsMissing, ServerError } from './api-client.js';
import { ImportInputError } from './convert.js';
import { runExport, type ExportFormat } from './export.js';
import { describeSummary, runImport, type ImportSummary } from './import.js';
import { memorySource, seedRecords } from './seed.js';
import { formatOf, openSource } from './sources.js';
import { BULK_USAGE } from './bulk-usage.js';

/**
 * `vbapi import | export | seed`: clients of a running server (they never open the store), so
 * they work against any deployment and go through the same validation as every other client.
 */
class BulkUsage extends Error {}

const log = (line: string) => console.error(`vbapi: ${line}`);

/** Runs one bulk command and answers its exit status. */
export async function runBulkCommand(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (error) {
    const usage = error instanceof BulkUsage || error instanceof ImportInputError || error instanceof CredentialsMissing;
    const known = usage || error instanceof ServerError;
    console.error(`vbapi: ${known ? (error as Error).message : `error: ${(error as Error).message}`}`);
    return usage ? 2 : 1;
  }
}

async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        server: { type: 'string' }, 'api-key': { type: 'string' }, 'client-id': { type: 'string' }, 'client-code': { type: 'string' },
        database: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' },
        format: { type: 'string' }, map: { type: 'string' }, sheet: { type: 'string' }, 'batch-size': { type: 'string' },
        'dry-run': { type: 'boolean' }, 'all-or-none': { type: 'boolean' }, report: { type: 'string' }, resume: { type: 'boolean' },
        checkpoint: { type: 'string' }, out: { type: 'string' }, categories: { type: 'string' }, benefits: { type: 'string' }, groups: { type: 'string' },
      },
    });
  } catch (error) {
    throw new BulkUsage(`${(error as Error).message}\n\nusage:\n${BULK_USAGE}`);
  }
  const { positionals, values } = parsed;
  const [command, typeName, file, ...extra] = positionals;
  const client = () => new ApiClient(credentialsFrom(values), (why) => log(why));

  if (command === 'seed') {
    if (typeName) throw new BulkUsage('usage: vbapi seed [--categories N] [--benefits N] [--groups N]');
    const counts = { categories: count(values.categories, 'categories', 30), benefits: count(values.benefits, 'benefits', 300), groups: count(values.groups, 'groups', 300) };
    const api = client();
    const generated = seedRecords(counts);
    let failed = false;
    for (const entity of entities) {
      const summary = await runImport(api, entity, memorySource(generated[entity.path as keyof typeof generated]), { batchSize: 1000, dryRun: false, allOrNone: false, log });
      console.log(describeSummary(entity.path, summary, false));
      failed ||= !allSucceeded(summary);
    }
    return failed ? 1 : 0;
  }

  const entity = entities.find((candidate) => candidate.path === typeName);
  if (command === 'export') {
    if (!entity || file || extra.length) throw new BulkUsage(`usage:\n${BULK_USAGE}`);
    const format = (values.format ?? (values.out?.match(/\.(csv|ndjson|xlsx)$/i)?.[1]?.toLowerCase() ?? 'csv')) as ExportFormat;
    if (!['csv', 'ndjson', 'xlsx'].includes(format)) throw new BulkUsage('--format must be csv, ndjson or xlsx');
    const written = await runExport(client(), entity, format, values.out, log);
    log(`exported ${written} ${entity.path}${values.out ? ` to ${values.out}` : ''}`);
    return 0;
  }
  if (command !== 'import' || !entity || !file || extra.length) throw new BulkUsage(`usage:\n${BULK_USAGE}`);
  return importFile(client(), entity, file, values);
}

async function importFile(api: ApiClient, entity: Entity, file: string, values: Record<string, string | boolean | undefined>): Promise<number> {
  const batchSize = count(values['batch-size'] as string | undefined, 'batch-size', 1000);
  const dryRun = values['dry-run'] === true;
  if (dryRun && values.resume) throw new BulkUsage('--dry-run stores nothing, so there is nothing to --resume');
  const source = await openSource(entity, file, formatOf(file, values.format as string | undefined), {
    ...(values.map ? { mapping: mapping(values.map as string) } : {}),
    ...(values.sheet ? { sheet: values.sheet as string } : {}),
  });
  const interrupted = () => {
    log(dryRun ? 'interrupted' : `interrupted: run the same command with --resume to continue where it stopped`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  const summary = await runImport(api, entity, source, {
    batchSize,
    dryRun,
    allOrNone: values['all-or-none'] === true,
    ...(values.report ? { reportPath: values.report as string } : {}),
    ...(dryRun ? {} : { checkpoint: { path: (values.checkpoint as string | undefined) ?? `${file}.checkpoint.json`, resume: values.resume === true, input: file } }),
    log,
  });
  process.off('SIGINT', interrupted);
  console.log(describeSummary(`${entity.path} from ${file}`, summary, dryRun));
  if (values.report) console.log(`report: ${values.report as string}`);
  return allSucceeded(summary) ? 0 : 1;
}

const allSucceeded = (summary: ImportSummary) => summary.counts.created + summary.counts.updated === summary.rows;

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new BulkUsage(`--${name} must be a positive integer, got "${value}"`);
  return Number(value);
}

function mapping(path: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new BulkUsage(`--map ${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((value) => typeof value !== 'string')) {
    throw new BulkUsage(`--map ${path} must be a JSON object of "column in the file": "field name"`);
  }
  return parsed as Record<string, string>;
}

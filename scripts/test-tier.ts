// Runs one tier of the test suite: `unit` (pure functions, no database, seconds), `contract` (the
// API and the stores on PGlite and PostgreSQL), `system` (whole servers as child processes:
// crashes, load, browsers, generated clients, external programs) or `all` (what `npm test` runs).
// Every test file must belong to exactly one tier, so a new file cannot silently be left out.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const UNIT = ['entities', 'json-scan', 'messages', 'mfa-crypto', 'operation-table', 'type-parsers', 'xlsx-reader'];
const SYSTEM = [
  'body-memory', 'cli', 'cli-live', 'concurrency', 'crash', 'db-faults', 'docs-browser', 'fuzz',
  'generated-client', 'import-cli', 'lock', 'newcomer', 'pgbouncer', 'responsive', 'serve-lifecycle', 'tenants',
];

const tier = process.argv[2] ?? 'all';
const files = readdirSync('test').filter((name) => name.endsWith('.test.ts')).sort();
const tierOf = (file: string): string => {
  const name = file.slice(0, -'.test.ts'.length);
  return UNIT.includes(name) ? 'unit' : SYSTEM.includes(name) ? 'system' : 'contract';
};
if (!['unit', 'contract', 'system', 'all'].includes(tier)) {
  console.error(`usage: test-tier.mjs unit|contract|system|all (got "${tier}")`);
  process.exit(2);
}
const chosen = files.filter((file) => tier === 'all' || tierOf(file) === tier).map((file) => `test/${file}`);
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...chosen], { stdio: 'inherit' });
process.exit(run.status ?? 1);

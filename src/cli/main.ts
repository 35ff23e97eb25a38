import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { buildApp } from '../http/app.js';
import { Store, StoreError } from '../store/store.js';

const USAGE = `usage: vbapi <command>

  serve [--port N]                         serve the API (PORT, HOST also work)
  database create <name> [--url <url>]     register a database; --url adopts one on another PostgreSQL server
  database list                            list registered databases

The store: PostgreSQL when DATABASE_URL is set, else the embedded store in VBAPI_DATA_DIR (default ./data).`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { port: { type: 'string' }, url: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, sub, ...rest] = positionals;
  if (values.help || !command) return void console.log(USAGE);
  const config = loadConfig();
  if (command === 'serve') {
    if (sub) throw new UsageError(`serve takes no arguments, got "${sub}"`);
    return serve(values.port === undefined ? config : loadConfig({ ...process.env, PORT: values.port }));
  }
  if (command === 'database' && sub === 'create') {
    const [name, extra] = rest;
    if (!name || extra) throw new UsageError('usage: vbapi database create <name> [--url <postgres url>]');
    return withStore(config, async (store) => {
      const entry = await store.createDatabase(name, values.url === undefined ? {} : { url: values.url });
      console.log(`created database ${entry.name}`);
    });
  }
  if (command === 'database' && sub === 'list') {
    return withStore(config, async (store) => {
      for (const entry of await store.list()) console.log(`${entry.name}\t${entry.external ? 'external' : store.kind}`);
    });
  }
  throw new UsageError(`unknown command "${[command, sub].filter(Boolean).join(' ')}"\n\n${USAGE}`);
}

async function withStore(config: Config, work: (store: Store) => Promise<void>): Promise<void> {
  const store = await Store.open(config, pino({ level: 'warn' }));
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

async function serve(config: Config): Promise<void> {
  const logger = pino({ level: config.logLevel });
  const store = await Store.open(config, logger);
  if ((await store.list()).length === 0) {
    await store.createDatabase('demo');
    logger.info('first run: created database "demo"');
  }
  const app = await buildApp({ store, config, logger });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: draining requests');
    await app.close(); // stops accepting, waits for in-flight requests
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
  logger.info(`VBAPI server on ${store.kind === 'pglite' ? `the embedded store (${config.dataDir})` : 'PostgreSQL'}`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const known = error instanceof UsageError || error instanceof ConfigError || error instanceof StoreError;
  const message = error instanceof Error ? error.message : String(error);
  console.error(`vbapi: ${known ? message : `error: ${message}`}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});

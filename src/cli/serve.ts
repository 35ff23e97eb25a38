import type { Server } from 'node:http';
import { Accounts } from '../auth/accounts.js';
import { newPassword } from '../auth/secrets.js';
import type { Config } from '../config.js';
import { buildApp } from '../http/app.js';
import { metricsServer } from '../http/metrics.js';
import { Store } from '../store/store.js';
import { closeCommands, listenForCommands } from './control.js';
import { createLogger } from './logger.js';
import { progress } from './progress.js';

/** `vbapi serve`: migrations, first-run set-up, listen, and a drain on SIGTERM/SIGINT. */
export async function serve(config: Config): Promise<void> {
  const logger = createLogger(config);
  const storeName = config.databaseUrl ? `PostgreSQL (${redacted(config.databaseUrl)})` : `the embedded store in ${config.dataDir}`;
  // A first start creates and migrates databases for seconds: say so, or it looks hung.
  const say = (line: string) => logger.info(line);
  const store = await step(`opening ${storeName}`, say, () => Store.open(config, logger));
  const firstRun = await bootstrap(store, say);
  const app = await buildApp({ store, config, logger });
  // The embedded store is this process's alone: the command line's administration commands come
  // to it over an owner-only socket in the data directory (on PostgreSQL they use the store directly).
  const commands = store.kind === 'pglite' ? await listenForCommands(store, config.dataDir, logger) : null;
  let metrics: Server | null = null;
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: draining requests');
    // A request or a close that hangs must not keep the process alive forever.
    const deadline = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown did not finish in time: exiting anyway');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    metrics?.close();
    try {
      await app.close(); // stops accepting, lets in-flight requests finish
      await closeCommands(commands, config.dataDir);
      await store.close();
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
    clearTimeout(deadline);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // The demo credentials were never shown: take them back, so the next start makes and prints new ones.
    if (firstRun) await forgetDemoAccount(store).catch((undoError: unknown) => logger.error({ err: undoError }, 'could not remove the unshown demo account'));
    await closeCommands(commands, config.dataDir).catch(() => undefined);
    await store.close().catch(() => undefined);
    throw error;
  }
  if (config.metricsPort !== undefined) {
    try {
      metrics = await metricsServer(config.host, config.metricsPort);
    } catch (error) {
      await app.close();
      await closeCommands(commands, config.dataDir);
      await store.close();
      throw error;
    }
  }
  const base = baseUrl(config.host, (app.server.address() as { port: number }).port);
  logger.info({ url: base, store: store.kind }, `VBAPI server ready on ${base}, using ${storeName}; API reference: ${base}/docs`);
  if (metrics) logger.info(`metrics: http://${config.host}:${(metrics.address() as { port: number }).port}/metrics`);
  else if (config.metricsToken) logger.info(`metrics: ${base}/metrics (bearer VBAPI_METRICS_TOKEN)`);
  // One write, after every start-up line: never interleaved with the log.
  if (firstRun) process.stdout.write(firstRunMessage(base, firstRun));
}

async function step<T>(what: string, say: (line: string) => void, work: () => Promise<T>): Promise<T> {
  const done = progress(what, say);
  try {
    return await work();
  } finally {
    done();
  }
}

function baseUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** A database URL for a log line: its password never is. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'DATABASE_URL';
  }
}

interface DemoAccount {
  readonly apiKey: string;
  readonly password: string;
}

/**
 * On an empty store: a `demo` database, client and user, and an API key, so a newcomer can make a
 * first call in a minute. The secrets exist only in the returned value (printed once, never logged).
 */
async function bootstrap(store: Store, say: (line: string) => void): Promise<DemoAccount | null> {
  const accounts = new Accounts(store.registry);
  if (await accounts.hasClients()) return null;
  say('first start: creating the demo database, client, user and API key');
  if (!(await store.find('demo'))) await step('creating database "demo"', say, () => store.createDatabase('demo'));
  const password = newPassword();
  await accounts.createClient('demo', 'demo');
  const { key } = await accounts.createKey('demo');
  await accounts.createUser('demo', 'demo', password, ['demo'], { administrator: true });
  return { apiKey: key, password };
}

/** Undoes `bootstrap`'s accounts (the `demo` database stays, empty): nobody ever saw their secrets. */
async function forgetDemoAccount(store: Store): Promise<void> {
  await store.registry.transaction(async (tx) => {
    await tx.query(`DELETE FROM users WHERE client_id = 'demo'`); // user_databases rows go with it (ON DELETE CASCADE)
    await tx.query(`DELETE FROM api_keys WHERE client_id = 'demo'`);
    await tx.query(`DELETE FROM clients WHERE id = 'demo'`);
  });
}

function firstRunMessage(base: string, account: DemoAccount): string {
  const login = [
    `curl -s -X POST ${base}/user-authentication`,
    `-H 'x-api-key: ${account.apiKey}' -u 'demo:${account.password}'`,
    `-H 'vbasoftware-client-id: demo' -H 'vbasoftware-client-code: demo' -H 'vbasoftware-database: demo'`,
  ].join(' \\\n    ');
  return `
First run: created database "demo", client "demo" (code "demo"), user "demo" and an API key.
The password and the key are shown only now; keep them.

  password: ${account.password}
  API key:  ${account.apiKey}

Log in and keep the token:

  TOKEN=$(${login} \\
    | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.authenticationResult.idToken')

Then call the API:

  curl -s -X PUT ${base}/benefit-categories-batch -H "Authorization: Bearer $TOKEN" \\
    -H 'x-api-key: ${account.apiKey}' -H 'vbasoftware-database: demo' \\
    -H 'Content-Type: application/json' -d '[{"benefit_Category": "MEDICAL", "description": "Medical"}]'

Or try it in a browser: ${base}/docs (log in under Authentication, then "Try it out").
`;
}

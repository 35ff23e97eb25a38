import type { Server } from 'node:http';
import type { Config } from '../config.js';
import { firstWorkerStarted } from '../store/pglite.js';
import { Store } from '../store/store.js';
import { createLogger } from './logger.js';
import { step } from './progress.js';

/** `vbapi serve`: migrations, first-run set-up, listen, and a drain on SIGTERM/SIGINT. */
export async function serve(config: Config): Promise<void> {
  const logger = createLogger(config);
  const storeName = config.databaseUrl ? `PostgreSQL (${redacted(config.databaseUrl)})` : `the embedded store in ${config.dataDir}`;
  // A first start creates and migrates databases for seconds: say so, or it looks hung.
  const say = (line: string) => logger.info(line);
  // The store opens first, then the rest of the server's modules load while it does: the embedded
  // store boots PostgreSQL in a thread of its own, and loading the HTTP stack is most of a second
  // of this one's (BENCHMARKS.md, start-up). Only the store, the logger and the config are loaded before.
  const opening = step(`opening ${storeName}`, say, () => Store.open(config, logger));
  // Handled at once (a store that cannot open fails the start at `await opening` below, with its
  // own message, not as an unhandled rejection while the modules load).
  const opened = opening.then(() => true, () => false);
  if (!config.databaseUrl) await Promise.race([firstWorkerStarted, opened]);
  const [{ buildApp }, { metricsServer }, { closeCommands, listenForCommands }, { bootstrap, firstRunMessage, forgetDemoAccount }] =
    await Promise.all([import('../http/app.js'), import('../http/metrics.js'), import('./control.js'), import('./first-run.js')]).catch(async (error: unknown) => {
      if (await opened) await (await opening).close(); // its worker thread and data-directory lock would keep the process alive
      throw error;
    });
  const store = await opening;
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

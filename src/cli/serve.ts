import pino from 'pino';
import { Accounts } from '../auth/accounts.js';
import { newPassword } from '../auth/secrets.js';
import type { Config } from '../config.js';
import { buildApp } from '../http/app.js';
import { Store } from '../store/store.js';

/** `vbapi serve`: migrations, first-run set-up, listen, and a drain on SIGTERM/SIGINT. */
export async function serve(config: Config): Promise<void> {
  const logger = pino({ level: config.logLevel });
  const store = await Store.open(config, logger);
  const firstRun = await bootstrap(store);
  const app = await buildApp({ store, config, logger });
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: draining requests');
    await app.close(); // stops accepting, lets in-flight requests finish
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
  logger.info(`VBAPI server on ${store.kind === 'pglite' ? `the embedded store (${config.dataDir})` : 'PostgreSQL'}`);
  if (firstRun) {
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const port = (app.server.address() as { port: number }).port;
    console.log(firstRunMessage(`http://${host.includes(':') ? `[${host}]` : host}:${port}`, firstRun));
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
async function bootstrap(store: Store): Promise<DemoAccount | null> {
  const accounts = new Accounts(store.registry);
  if (await accounts.hasClients()) return null;
  if (!(await store.find('demo'))) await store.createDatabase('demo');
  const password = newPassword();
  await accounts.createClient('demo', 'demo');
  const { key } = await accounts.createKey('demo');
  await accounts.createUser('demo', 'demo', password, ['demo']);
  return { apiKey: key, password };
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
`;
}

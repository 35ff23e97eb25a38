import { Accounts } from '../auth/accounts.js';
import { newPassword } from '../auth/secrets.js';
import type { Store } from '../store/store.js';
import { step } from './progress.js';

/** What `vbapi serve` does and says on an empty store (serve.ts loads it once its store is opening). */

export interface DemoAccount {
  readonly apiKey: string;
  readonly password: string;
}

/**
 * On an empty store: a `demo` database, client and user, and an API key, so a newcomer can make a
 * first call in a minute. The secrets exist only in the returned value (printed once, never logged).
 */
export async function bootstrap(store: Store, say: (line: string) => void): Promise<DemoAccount | null> {
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
export async function forgetDemoAccount(store: Store): Promise<void> {
  await store.registry.transaction(async (tx) => {
    await tx.query(`DELETE FROM users WHERE client_id = 'demo'`); // user_databases rows go with it (ON DELETE CASCADE)
    await tx.query(`DELETE FROM api_keys WHERE client_id = 'demo'`);
    await tx.query(`DELETE FROM clients WHERE id = 'demo'`);
  });
}

export function firstRunMessage(base: string, account: DemoAccount): string {
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

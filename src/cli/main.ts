import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Accounts } from '../auth/accounts.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { Store, StoreError } from '../store/store.js';
import { BULK_COMMANDS, BULK_USAGE } from './bulk-usage.js';
import { serve } from './serve.js';

const USAGE = `usage: vbapi <command>

  serve [--port N]                                   serve the API (PORT, HOST also work)
  database create <name> [--url <postgres url>]      register a database; --url adopts one on another PostgreSQL server
  database list                                      list registered databases
  client create <clientId> --code <clientCode>       create a client
  key create <clientId>                              create an API key (printed once, on the last line)
  key revoke <key-prefix-or-id>                      revoke an API key
  user create <clientId> <username> (--password <pw> | --password-stdin) --database <name> [--database <name> …]
  user grant <clientId> <username> --database <name> [--database <name> …]
${BULK_USAGE}

The store: PostgreSQL when DATABASE_URL is set, else the embedded store in VBAPI_DATA_DIR (default ./data).`;

class UsageError extends Error {}

type Values = { port?: string; url?: string; code?: string; password?: string; 'password-stdin'?: boolean; database?: string[] };

/** Each command: its words, how many arguments, and what it does with an open store. */
const commands: Record<string, { args: string; arity: number; run: (store: Store, args: string[], values: Values) => Promise<void> }> = {
  'database create': {
    args: '<name> [--url <postgres url>]',
    arity: 1,
    run: async (store, [name], values) => {
      const entry = await store.createDatabase(name!, values.url === undefined ? {} : { url: values.url });
      console.log(`created database ${entry.name}`);
    },
  },
  'database list': {
    args: '',
    arity: 0,
    run: async (store) => {
      for (const entry of await store.list()) console.log(`${entry.name}\t${entry.external ? 'external' : store.kind}`);
    },
  },
  'client create': {
    args: '<clientId> --code <clientCode>',
    arity: 1,
    run: async (store, [clientId], values) => {
      if (!values.code) throw new UsageError('usage: vbapi client create <clientId> --code <clientCode>');
      await new Accounts(store.registry).createClient(clientId!, values.code);
      console.log(`created client ${clientId}`);
    },
  },
  'key create': {
    args: '<clientId>',
    arity: 1,
    run: async (store, [clientId]) => {
      const { id, key } = await new Accounts(store.registry).createKey(clientId!);
      console.log(`created API key ${id} for client ${clientId}; it is shown only now:`);
      console.log(key);
    },
  },
  'key revoke': {
    args: '<key-prefix-or-id>',
    arity: 1,
    run: async (store, [idOrPrefix]) => {
      console.log(`revoked API key ${await new Accounts(store.registry).revokeKey(idOrPrefix!)}`);
    },
  },
  'user create': {
    args: '<clientId> <username> (--password <pw> | --password-stdin) --database <name> [--database <name> …]',
    arity: 2,
    run: async (store, [clientId, username], values) => {
      const password = values['password-stdin'] ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : values.password;
      if (password === undefined || (values['password-stdin'] && values.password !== undefined)) {
        throw new UsageError('give the password with either --password <pw> or --password-stdin');
      }
      await new Accounts(store.registry).createUser(clientId!, username!, password, values.database ?? []);
      console.log(`created user ${username} of client ${clientId}`);
    },
  },
  'user grant': {
    args: '<clientId> <username> --database <name> [--database <name> …]',
    arity: 2,
    run: async (store, [clientId, username], values) => {
      if (!values.database?.length) throw new UsageError('usage: vbapi user grant <clientId> <username> --database <name>');
      await new Accounts(store.registry).grant(clientId!, username!, values.database);
      console.log(`granted ${values.database.join(', ')} to user ${username} of client ${clientId}`);
    },
  },
};

async function main(argv: string[]): Promise<void> {
  // import/export/seed are clients of a running server, with options of their own.
  if (BULK_COMMANDS.has(argv[0] ?? '')) return void (process.exitCode = await (await import('./bulk.js')).runBulkCommand(argv));
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      url: { type: 'string' },
      code: { type: 'string' },
      password: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      database: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [first, second, ...rest] = positionals;
  if (values.help || !first) return void console.log(USAGE);
  const config = loadConfig();
  if (first === 'serve') {
    if (second) throw new UsageError(`serve takes no arguments, got "${second}"`);
    return serve(values.port === undefined ? config : loadConfig({ ...process.env, PORT: values.port }));
  }
  const name = `${first} ${second ?? ''}`.trim();
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"\n\n${USAGE}`);
  if (rest.length !== command.arity) throw new UsageError(`usage: vbapi ${name} ${command.args}`);
  await withStore(config, (store) => command.run(store, rest, values));
}

async function withStore(config: Config, work: (store: Store) => Promise<void>): Promise<void> {
  const store = await Store.open(config, pino({ level: 'warn' }));
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const known = error instanceof UsageError || error instanceof ConfigError || error instanceof StoreError;
  const message = error instanceof Error ? error.message : String(error);
  console.error(`vbapi: ${known ? message : `error: ${message}`}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { AccountError, Accounts, MAX_USERNAME_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/accounts.js';
import { API_KEY_PREFIX_LENGTH } from '../auth/secrets.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { Store, StoreError } from '../store/store.js';
import { BULK_COMMANDS, BULK_USAGE } from './bulk-usage.js';
import { progress } from './progress.js';
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
  help [<command>]                                   this text, or one command's usage ("vbapi help database create")

The store: PostgreSQL when DATABASE_URL is set, else the embedded store in VBAPI_DATA_DIR (default ./data).`;

class UsageError extends Error {}

type Values = { port?: string; url?: string; code?: string; password?: string; 'password-stdin'?: boolean; database?: string[]; help?: boolean };

interface Command {
  readonly args: string;
  readonly arity: number;
  /** One line for `vbapi help <command>`. */
  readonly summary?: string;
  /** The options it takes (without `--`); unset = any option the command line knows. */
  readonly options?: readonly string[];
  readonly run: (store: Store, args: string[], values: Values) => Promise<void>;
}

/** Each command: its words, how many arguments, and what it does with an open store. */
const commands: Record<string, Command> = {
  'database create': {
    args: '<name> [--url <postgres url>]',
    arity: 1,
    summary: 'Register a database and create it; --url adopts an existing database on another PostgreSQL server.',
    options: ['url'],
    run: async (store, [name], values) => {
      // Creating an embedded database takes seconds: say so rather than look hung (on stderr: stdout is the result).
      const done = progress(`creating database "${name}"`, (line) => console.error(`vbapi: ${line}`));
      const entry = await store.createDatabase(name!, values.url === undefined ? {} : { url: values.url }).finally(done);
      console.log(`created database ${entry.name}`);
    },
  },
  'database list': {
    args: '',
    arity: 0,
    summary: 'List registered databases and where each lives.',
    options: [],
    run: async (store) => {
      for (const entry of await store.list()) console.log(`${entry.name}\t${entry.external ? 'external' : store.kind}`);
    },
  },
  'client create': {
    args: '<clientId> --code <clientCode>',
    arity: 1,
    summary: 'Create a client (the vbasoftware-client-id / -code of login).',
    options: ['code'],
    run: async (store, [clientId], values) => {
      if (!values.code) throw new UsageError('usage: vbapi client create <clientId> --code <clientCode>');
      await new Accounts(store.registry).createClient(clientId!, values.code);
      console.log(`created client ${clientId}`);
    },
  },
  'key create': {
    args: '<clientId>',
    arity: 1,
    summary: 'Create an API key; it is printed once, alone on the last line.',
    options: [],
    run: async (store, [clientId]) => {
      const { id, key } = await new Accounts(store.registry).createKey(clientId!);
      console.log(`created API key ${id} for client ${clientId}; it is shown only now:`);
      console.log(key);
    },
  },
  'key revoke': {
    args: '<key-prefix-or-id>',
    arity: 1,
    summary: `Revoke a key by its id, or by its first ${API_KEY_PREFIX_LENGTH} or more characters (the whole key works too).`,
    options: [],
    run: async (store, [idOrPrefix]) => {
      if (!KEY_ID.test(idOrPrefix!) && idOrPrefix!.length < API_KEY_PREFIX_LENGTH) {
        throw new UsageError(`"${idOrPrefix}" is too short: give the key's id or at least its first ${API_KEY_PREFIX_LENGTH} characters`);
      }
      console.log(`revoked API key ${await new Accounts(store.registry).revokeKey(idOrPrefix!)}`);
    },
  },
  'user create': {
    args: '<clientId> <username> (--password <pw> | --password-stdin) --database <name> [--database <name> …]',
    arity: 2,
    summary: `Create a user of a client, granted one or more databases (usernames 1-${MAX_USERNAME_LENGTH} characters, passwords at least ${MIN_PASSWORD_LENGTH}).`,
    options: ['password', 'password-stdin', 'database'],
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
    summary: 'Let a user log in to more databases.',
    options: ['database'],
    run: async (store, [clientId, username], values) => {
      if (!values.database?.length) throw new UsageError('usage: vbapi user grant <clientId> <username> --database <name>');
      await new Accounts(store.registry).grant(clientId!, username!, values.database);
      console.log(`granted ${values.database.join(', ')} to user ${username} of client ${clientId}`);
    },
  },
};

/** `serve` opens no store here (it manages its own), so it is not in `commands`. */
const SERVE: Pick<Command, 'args' | 'summary' | 'options'> = {
  args: '[--port N]',
  summary: 'Serve the API (what `npm start` runs). PORT and HOST also work; SIGTERM/SIGINT drain in-flight requests.',
  options: ['port'],
};

/** A key's id (8 hex digits), as `key create` prints it. */
const KEY_ID = /^[0-9a-f]{8}$/;

const OPTIONS = {
  port: { type: 'string' },
  url: { type: 'string' },
  code: { type: 'string' },
  password: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  database: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(argv: string[]): Promise<void> {
  // import/export/seed are clients of a running server, with options of their own.
  if (BULK_COMMANDS.has(argv[0] ?? '')) return void (process.exitCode = await (await import('./bulk.js')).runBulkCommand(argv));
  const { positionals, values } = parseCommandLine(argv);
  const [first, second, ...rest] = positionals;
  // No arguments is a usage mistake (exit 2); `vbapi help` and `--help` are asked-for help (exit 0).
  if (!first && !values.help) throw new UsageError(USAGE, { cause: 'bare' });
  if (first === 'help' || !first) return void console.log(helpFor(first === 'help' ? positionals.slice(1) : []));
  if (values.help) return void console.log(helpFor(commands[`${first} ${second}`] ? [first, second!] : [first]));
  const config = loadConfig();
  if (first === 'serve') {
    if (second) throw new UsageError(`serve takes no arguments, got "${second}"`);
    allowOnly('serve', SERVE.options, values);
    return serve(values.port === undefined ? config : loadConfig({ ...process.env, PORT: portOption(values.port) }));
  }
  const name = `${first} ${second ?? ''}`.trim();
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"; "vbapi help" lists the commands`);
  allowOnly(name, command.options, values);
  if (rest.length !== command.arity) throw new UsageError(`usage: vbapi ${name} ${command.args}`);
  await withStore(config, (store) => command.run(store, rest, values));
}

/** parseArgs, its errors turned into one line (its own text is long and names internals). */
function parseCommandLine(argv: string[]): { positionals: string[]; values: Values } {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS }) as { positionals: string[]; values: Values };
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const option = /'(-[^' ]*)/.exec(message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option "${option}"; "vbapi help" lists the options of each command`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(OPTIONS[option.replace(/^--/, '') as keyof typeof OPTIONS]?.type === 'boolean' ? `option ${option} takes no value` : `option ${option} needs a value`);
    }
    throw new UsageError(message.split('\n', 1)[0]!);
  }
}

function allowOnly(name: string, allowed: readonly string[] | undefined, values: Values): void {
  if (!allowed) return;
  const extra = Object.keys(values).filter((option) => option !== 'help' && !allowed.includes(option));
  if (extra.length) throw new UsageError(`${name} does not take --${extra[0]}; see "vbapi help ${name}"`);
}

function portOption(value: string): string {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) throw new UsageError(`--port must be an integer from 0 to 65535, got "${value}"`);
  return value;
}

/** Help for the words given: everything, a group (`database`), or one command (`database create`). */
function helpFor(words: readonly string[]): string {
  const wanted = words.join(' ');
  if (!wanted) return USAGE;
  const all: [string, Pick<Command, 'args' | 'summary' | 'options'>][] = [['serve', SERVE], ...Object.entries(commands)];
  const matching = all.filter(([name]) => name === wanted || name.startsWith(`${wanted} `));
  if (matching.length === 0) throw new UsageError(`unknown command "${wanted}"; "vbapi help" lists the commands`);
  return matching.map(([name, command]) => `usage: vbapi ${name} ${command.args}`.trimEnd() + (command.summary ? `\n  ${command.summary}` : '')).join('\n\n');
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
  const known = error instanceof UsageError || error instanceof ConfigError || error instanceof StoreError || error instanceof AccountError;
  const message = error instanceof Error ? error.message : String(error);
  // A bare `vbapi` gets the whole usage, as is; everything else one line.
  console.error(error instanceof UsageError && error.cause === 'bare' ? message : `vbapi: ${known ? message : `error: ${message}`}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});

import { AccountError, Accounts } from '../auth/accounts.js';
import { forgetMfaDevice } from '../auth/mfa-state.js';
import { API_KEY_PREFIX_LENGTH, hashPassword } from '../auth/secrets.js';
import { Sessions } from '../auth/sessions.js';
import { ConfigError } from '../config.js';
import { StoreError, type Store } from '../store/store.js';
import { disableUser, enableUser, resetPassword, type UserAdmin } from '../users/admin.js';
import { UserDirectory } from '../users/directory.js';
import { allowOnly, UsageError, type Values } from './arguments.js';
import { progress } from './progress.js';

/**
 * The administration commands (`database`, `client`, `key`, `user`), each written once as a
 * function of an open store. The command line runs them on the store it opens itself, or, when a
 * server owns the embedded store, sends them to that server (control.ts), which runs the same
 * function on its own store and sends the output back.
 */

/** Where a command runs: the store, where its output goes, and the command line's standard input. */
export interface CommandContext {
  readonly store: Store;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** What `--password-stdin` reads: the command line read it (a server gets it in the request). */
  readonly stdin: () => string;
}

export interface Command {
  readonly args: string;
  readonly arity: number;
  /** One line for `vbapi help <command>`. */
  readonly summary?: string;
  /** The options it takes (without `--`); unset = any option the command line knows. */
  readonly options?: readonly string[];
  readonly run: (context: CommandContext, args: string[], values: Values) => Promise<void>;
}

/** Who the registry's `update_User` names for a change made on the command line. */
const OPERATOR = 'vbapi';

/** A key's id (8 hex digits), as `key create` prints it. */
const KEY_ID = /^[0-9a-f]{8}$/;

const yesNo = (value: boolean) => (value ? 'yes' : 'no');
const table = (context: CommandContext, header: readonly string[], rows: readonly (readonly (string | null)[])[]) => {
  context.out(header.join('\t'));
  for (const row of rows) context.out(row.map((cell) => cell ?? '-').join('\t'));
};

/** What the command line's user commands share with the API's admin routes (users/admin.ts), in the operator's scope. */
function userAdmin(store: Store): UserAdmin {
  // Only revokes sessions here, so the refresh-token lifetime (used when creating them) does not matter.
  return { directory: new UserDirectory(store.registry), sessions: new Sessions(store.registry, 0), hash: hashPassword };
}

const noUser = (clientId: string, username: string) => new AccountError(`no user "${username}" in client "${clientId}"`);

/** Each command: its words, how many arguments, and what it does with an open store. */
export const commands: Record<string, Command> = {
  'database create': {
    args: '<name> [--url <postgres url>]',
    arity: 1,
    summary: 'Register a database and create it; --url adopts an existing database on another PostgreSQL server.',
    options: ['url'],
    run: async ({ store, out, err }, [name], values) => {
      // Creating an embedded database takes seconds: say so rather than look hung (on stderr: stdout is the result).
      const done = progress(`creating database "${name}"`, (line) => err(`vbapi: ${line}`));
      const entry = await store.createDatabase(name!, values.url === undefined ? {} : { url: values.url }).finally(done);
      out(`created database ${entry.name}`);
    },
  },
  'database list': {
    args: '',
    arity: 0,
    summary: 'List registered databases and where each lives.',
    options: [],
    run: async ({ store, out }) => {
      for (const entry of await store.list()) out(`${entry.name}\t${entry.external ? 'external' : store.kind}`);
    },
  },
  'database drop': {
    args: '<name> --yes [--force]',
    arity: 1,
    summary:
      'Unregister a database and delete it with all its records (an adopted --url database is only unregistered). ' +
      'Refused without --yes, and while users are granted it unless --force (their grants and sessions end).',
    options: ['yes', 'force'],
    run: async ({ store, out }, [name], values) => {
      if (!values.yes) throw new UsageError(`database drop deletes every record of "${name}": confirm with --yes`);
      const { entry, grants } = await store.dropDatabase(name!, { force: values.force === true });
      // The store revoked the database's sessions: this process's tokens for it stop working at once too.
      new Sessions(store.registry, 0).forgetStates();
      const also = grants ? ` and ${grants} user grant(s)` : '';
      out(entry.external ? `unregistered database ${name}${also} (adopted: its data stays on its own server)` : `dropped database ${name}${also}`);
    },
  },
  'client create': {
    args: '<clientId> --code <clientCode>',
    arity: 1,
    summary: 'Create a client (the vbasoftware-client-id / -code of login).',
    options: ['code'],
    run: async ({ store, out }, [clientId], values) => {
      if (!values.code) throw new UsageError('usage: vbapi client create <clientId> --code <clientCode>');
      await new Accounts(store.registry).createClient(clientId!, values.code);
      out(`created client ${clientId}`);
    },
  },
  'client list': {
    args: '',
    arity: 0,
    summary: 'List clients: id, code (sent at login), created, active keys, users.',
    options: [],
    run: async (context) => {
      const clients = await new Accounts(context.store.registry).listClients();
      table(context, ['client', 'code', 'created', 'keys', 'users'], clients.map((c) => [c.id, c.code, c.created, String(c.activeKeys), String(c.users)]));
    },
  },
  'key create': {
    args: '<clientId>',
    arity: 1,
    summary: 'Create an API key; it is printed once, alone on the last line.',
    options: [],
    run: async ({ store, out }, [clientId]) => {
      const { id, key } = await new Accounts(store.registry).createKey(clientId!);
      out(`created API key ${id} for client ${clientId}; it is shown only now:`);
      out(key);
    },
  },
  'key list': {
    args: '<clientId>',
    arity: 1,
    summary: 'List a client\'s API keys: id, first characters, created, last used (to the minute), revoked. Never the key.',
    options: [],
    run: async (context, [clientId]) => {
      const keys = await new Accounts(context.store.registry).listKeys(clientId!);
      table(context, ['id', 'prefix', 'created', 'last used', 'revoked'], keys.map((k) => [k.id, k.prefix, k.created, k.lastUsed, k.revoked]));
    },
  },
  'key revoke': {
    args: '<key-prefix-or-id>',
    arity: 1,
    summary: `Revoke a key by its id, or by its first ${API_KEY_PREFIX_LENGTH} or more characters (the whole key works too).`,
    options: [],
    run: async ({ store, out }, [idOrPrefix]) => {
      if (!KEY_ID.test(idOrPrefix!) && idOrPrefix!.length < API_KEY_PREFIX_LENGTH) {
        throw new UsageError(`"${idOrPrefix}" is too short: give the key's id or at least its first ${API_KEY_PREFIX_LENGTH} characters`);
      }
      out(`revoked API key ${await new Accounts(store.registry).revokeKey(idOrPrefix!)}`);
    },
  },
  'user create': {
    args: '<clientId> <username> (--password <pw> | --password-stdin) --database <name> [--database <name> …] [--administrator] [--temporary]',
    arity: 2,
    summary:
      'Create a user of a client, granted one or more databases (usernames 1-16 characters; passwords at least 12, not the username). ' +
      'The password is permanent unless --temporary (then it must be replaced at the first login); --administrator lets the user manage the client\'s users over the API.',
    options: ['password', 'password-stdin', 'database', 'administrator', 'temporary'],
    run: async ({ store, out, stdin }, [clientId, username], values) => {
      if ((values['password-stdin'] === true) === (values.password !== undefined)) {
        throw new UsageError('give the password with either --password <pw> or --password-stdin');
      }
      const password = values['password-stdin'] ? stdin().replace(/\r?\n$/, '') : values.password!;
      await new Accounts(store.registry).createUser(clientId!, username!, password, values.database ?? [], {
        administrator: values.administrator === true,
        temporary: values.temporary === true,
      });
      out(`created user ${username} of client ${clientId}`);
    },
  },
  'user grant': {
    args: '<clientId> <username> --database <name> [--database <name> …]',
    arity: 2,
    summary: 'Let a user log in to more databases.',
    options: ['database'],
    run: async ({ store, out }, [clientId, username], values) => {
      if (!values.database?.length) throw new UsageError('usage: vbapi user grant <clientId> <username> --database <name>');
      await new Accounts(store.registry).grant(clientId!, username!, values.database);
      out(`granted ${values.database.join(', ')} to user ${username} of client ${clientId}`);
    },
  },
  'user list': {
    args: '<clientId>',
    arity: 1,
    summary: 'List a client\'s users: administrator, disabled, locked out, must change their password (temporary), MFA on, granted databases.',
    options: [],
    run: async (context, [clientId]) => {
      if ((await new Accounts(context.store.registry).clientCode(clientId!)) === null) throw new AccountError(`no client "${clientId}"`);
      const users = await new UserDirectory(context.store.registry).summaries(clientId!);
      table(
        context,
        ['username', 'administrator', 'disabled', 'locked', 'temporary', 'mfa', 'databases'],
        users.map((u) => [u.username, yesNo(u.administrator), yesNo(u.disabled), yesNo(u.locked), yesNo(u.temporary), yesNo(u.mfa), u.databases || null]),
      );
    },
  },
  'user reset-password': {
    args: '<clientId> <username>',
    arity: 2,
    summary: 'Give a user a new random temporary password (printed once, alone on the last line; it must be replaced at the next login). Their sessions end.',
    options: [],
    run: async ({ store, out }, [clientId, username]) => {
      const password = await resetPassword(userAdmin(store), { clientId: clientId!, database: null }, username!, OPERATOR);
      if (password === null) throw noUser(clientId!, username!);
      out(`reset the password of user ${username} of client ${clientId} and ended their sessions; the temporary password is shown only now:`);
      out(password);
    },
  },
  'user disable': {
    args: '<clientId> <username>',
    arity: 2,
    summary: 'Stop a user from logging in; their sessions end at once.',
    options: [],
    run: async ({ store, out }, [clientId, username]) => {
      if (!(await disableUser(userAdmin(store), { clientId: clientId!, database: null }, username!, OPERATOR))) throw noUser(clientId!, username!);
      out(`disabled user ${username} of client ${clientId} and ended their sessions`);
    },
  },
  'user enable': {
    args: '<clientId> <username>',
    arity: 2,
    summary: 'Let a disabled user log in again.',
    options: [],
    run: async ({ store, out }, [clientId, username]) => {
      if (!(await enableUser(userAdmin(store), { clientId: clientId!, database: null }, username!, OPERATOR))) throw noUser(clientId!, username!);
      out(`enabled user ${username} of client ${clientId}`);
    },
  },
  'user mfa-disable': {
    args: '<clientId> <username>',
    arity: 2,
    summary: "Turn a user's MFA off and forget their device (for an administrator who lost theirs); they set up again after logging in.",
    options: [],
    run: async ({ store, out }, [clientId, username]) => {
      if (!(await new UserDirectory(store.registry).existsInClient(clientId!, username!))) throw noUser(clientId!, username!);
      const had = await forgetMfaDevice(store.registry, clientId!, username!);
      out(had ? `MFA disabled for user ${username} of client ${clientId}; their device is forgotten` : `user ${username} of client ${clientId} had no MFA device`);
    },
  },
};

/** An administration command line, checked: which command, its arguments and options. */
export interface Invocation {
  readonly name: string;
  readonly command: Command;
  readonly args: string[];
  readonly values: Values;
}

export function invocation(positionals: readonly string[], values: Values): Invocation {
  const [first, second, ...args] = positionals;
  const name = `${first ?? ''} ${second ?? ''}`.trim();
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"; "vbapi help" lists the commands`);
  allowOnly(name, command.options, values);
  if (args.length !== command.arity) throw new UsageError(`usage: vbapi ${name} ${command.args}`);
  return { name, command, args, values };
}

/**
 * Runs a command and answers its exit status: 0 done, 1 refused (one `vbapi: …` line on err),
 * 2 a usage mistake. `unexpected` sees errors that are neither (a server logs them).
 */
export async function execute(call: Invocation, context: CommandContext, unexpected: (error: unknown) => void = () => undefined): Promise<number> {
  try {
    await call.command.run(context, call.args, call.values);
    return 0;
  } catch (error) {
    const known = error instanceof UsageError || error instanceof ConfigError || error instanceof StoreError || error instanceof AccountError;
    if (!known) unexpected(error);
    const message = error instanceof Error ? error.message : String(error);
    context.err(`vbapi: ${known ? message : `error: ${message}`}`);
    return error instanceof UsageError ? 2 : 1;
  }
}

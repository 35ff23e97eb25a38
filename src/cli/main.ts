import { readFileSync } from 'node:fs';
import pino from 'pino';
import { AccountError } from '../auth/account-error.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { DataDirBusy } from '../store/lock.js';
import { Store, StoreError } from '../store/store.js';
import { allowOnly, parseCommandLine, UsageError } from './arguments.js';
import { BULK_COMMANDS, BULK_USAGE } from './bulk-usage.js';
import type { Command, commands as Commands, execute as Execute, Invocation } from './commands.js';
import type { ControlRequest } from './control.js';
import { serve } from './serve.js';

// Only what `vbapi serve` needs before it opens its store is imported here: the administration
// commands and the HTTP stack are loaded when used (serve.ts loads the latter while the store opens).

const USAGE = `usage: vbapi <command>

  serve [--port N]                                   serve the API (PORT, HOST also work)
  database create <name> [--url <postgres url>]      register a database; --url adopts one on another PostgreSQL server
  database list                                      list registered databases
  database drop <name> --yes [--force]               delete a database and its records (--force: even while users are granted it)
  client create <clientId> --code <clientCode>       create a client
  client list                                        list clients
  key create <clientId>                              create an API key (printed once, on the last line)
  key list <clientId>                                list a client's keys: id, prefix, created, last used (never the key)
  key revoke <key-prefix-or-id>                      revoke an API key
  user create <clientId> <username> (--password <pw> | --password-stdin) --database <name> [--database <name> …]
              [--administrator] [--temporary]        a password given here is permanent unless --temporary
  user grant <clientId> <username> --database <name> [--database <name> …]
  user list <clientId>                               list a client's users
  user reset-password <clientId> <username>          a new temporary password (printed once); ends their sessions
  user disable <clientId> <username>                 no more logins; ends their sessions
  user enable <clientId> <username>                  logins again
  user mfa-disable <clientId> <username>             MFA off and the device forgotten (a lost device)
${BULK_USAGE}
  help [<command>]                                   this text, or one command's usage ("vbapi help database create")

The store: PostgreSQL when DATABASE_URL is set, else the embedded store in VBAPI_DATA_DIR (default ./data).
While a server runs on the embedded store, the database, client, key and user commands are run by that server
(over <data dir>/control.sock); on PostgreSQL they work on the shared store directly.`;

/** `serve` opens no store here (it manages its own), so it is not in `commands`. */
const SERVE: Pick<Command, 'args' | 'summary' | 'options'> = {
  args: '[--port N]',
  summary: 'Serve the API (what `npm start` runs). PORT and HOST also work; SIGTERM/SIGINT drain in-flight requests.',
  options: ['port'],
};

async function main(argv: string[]): Promise<void> {
  // import/export/seed are clients of a running server, with options of their own.
  if (BULK_COMMANDS.has(argv[0] ?? '')) return void (process.exitCode = await (await import('./bulk.js')).runBulkCommand(argv));
  const { positionals, values } = parseCommandLine(argv);
  const [first, second] = positionals;
  // No arguments is a usage mistake (exit 2); `vbapi help` and `--help` are asked-for help (exit 0).
  if (!first && !values.help) throw new UsageError(USAGE, { cause: 'bare' });
  if (first === 'serve' && !values.help) {
    const config = loadConfig();
    if (second) throw new UsageError(`serve takes no arguments, got "${second}"`);
    allowOnly('serve', SERVE.options, values);
    return serve(values.port === undefined ? config : loadConfig({ ...process.env, PORT: portOption(values.port) }));
  }
  // Help and the administration commands: only now are the commands loaded (serve needs none of them).
  const { commands, execute, invocation } = await import('./commands.js');
  if (first === 'help' || !first) return void console.log(helpFor(commands, first === 'help' ? positionals.slice(1) : []));
  if (values.help) return void console.log(helpFor(commands, commands[`${first} ${second}`] ? [first, second!] : [first]));
  const config = loadConfig();
  const call = invocation(positionals, values);
  // Read before anything else, once: sent along to a server, or read by the command here.
  const stdin = values['password-stdin'] ? readFileSync(0, 'utf8') : undefined;
  process.exitCode = await administer(config, call, { argv, ...(stdin === undefined ? {} : { stdin }) }, execute);
}

/** How long a command waits for a data directory locked by a process that is not (yet) a listening server. */
const BUSY_WAIT_MS = 10_000;

/**
 * Runs an administration command on the store, or, on the embedded store while a server owns it,
 * through that server's control socket. A lock held without a socket is another command or a
 * server still starting: retried for a while.
 */
async function administer(config: Config, call: Invocation, request: ControlRequest, execute: typeof Execute): Promise<number> {
  const { sendToServer } = await import('./control.js');
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (;;) {
    let store: Store;
    try {
      store = await Store.open(config, pino({ level: 'warn' }));
    } catch (error) {
      if (!(error instanceof DataDirBusy)) throw error;
      const answer = await sendToServer(config.dataDir, request);
      if (answer) {
        process.stdout.write(answer.stdout);
        process.stderr.write(answer.stderr);
        return answer.exitCode;
      }
      if (Date.now() > deadline) {
        throw new StoreError(`${error.message.replace(/; stop it first.*$/, '')}, which does not answer on its control socket (a server still starting, or another command): try again shortly`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
      continue;
    }
    try {
      return await execute(call, { store, out: (line) => console.log(line), err: (line) => console.error(line), stdin: () => request.stdin ?? '' });
    } finally {
      await store.close();
    }
  }
}

function portOption(value: string): string {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65_535) throw new UsageError(`--port must be an integer from 0 to 65535, got "${value}"`);
  return value;
}

/** Help for the words given: everything, a group (`database`), or one command (`database create`). */
function helpFor(commands: typeof Commands, words: readonly string[]): string {
  const wanted = words.join(' ');
  if (!wanted) return USAGE;
  const all: [string, Pick<Command, 'args' | 'summary' | 'options'>][] = [['serve', SERVE], ...Object.entries(commands)];
  const matching = all.filter(([name]) => name === wanted || name.startsWith(`${wanted} `));
  if (matching.length === 0) throw new UsageError(`unknown command "${wanted}"; "vbapi help" lists the commands`);
  return matching.map(([name, command]) => `usage: vbapi ${name} ${command.args}`.trimEnd() + (command.summary ? `\n  ${command.summary}` : '')).join('\n\n');
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const known = error instanceof UsageError || error instanceof ConfigError || error instanceof StoreError || error instanceof AccountError;
  const message = error instanceof Error ? error.message : String(error);
  // A bare `vbapi` gets the whole usage, as is; everything else one line.
  console.error(error instanceof UsageError && error.cause === 'bare' ? message : `vbapi: ${known ? message : `error: ${message}`}`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});

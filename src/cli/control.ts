import { chmodSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { parseCommandLine, UsageError } from './arguments.js';
import { execute, invocation } from './commands.js';

/**
 * The embedded store belongs to the process that serves it (it holds the data directory's flock),
 * so while a server runs, the administration commands reach it here: a Unix socket,
 * `<data dir>/control.sock`, mode 0600, so only the user the server runs as may connect (the
 * kernel checks the file's permissions at connect; Node offers no SO_PEERCRED to check the peer's
 * uid as well, and the data directory is that user's anyway).
 *
 * The protocol is one JSON line each way:
 *   request  {"argv": ["user", "disable", "acme", "alice"], "stdin": "…"}   (stdin: for --password-stdin)
 *   answer   {"exitCode": 0, "stdout": "…", "stderr": "…"}
 * The server runs the same command function (commands.ts) on its own store. Requests are never
 * logged (they may hold a password): only the command's name and exit status are.
 *
 * On PostgreSQL there is no socket: every process shares the store, so the command line works on it
 * directly, and servers see the change as they see other instances' (see README, "Command line").
 */
const CONTROL_SOCKET = 'control.sock';

/** A request larger than this is refused (a command line with a password is a few hundred bytes). */
const MAX_REQUEST_BYTES = 1 << 20;
/** Unix socket paths are limited to 108 bytes, the terminating NUL included. */
const MAX_SOCKET_PATH = 107;

export interface ControlRequest {
  readonly argv: string[];
  readonly stdin?: string;
}

export interface ControlAnswer {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

function controlSocketPath(dataDir: string): string {
  return join(resolve(dataDir), CONTROL_SOCKET);
}

/** The socket's path as this process can name it: the shorter of absolute and relative (paths over 107 bytes do not fit). */
function reachable(path: string): string | null {
  const fromHere = relative(process.cwd(), path);
  const shortest = fromHere.length < path.length && !fromHere.startsWith('/') ? `./${fromHere}` : path;
  return Buffer.byteLength(shortest) <= MAX_SOCKET_PATH ? shortest : null;
}

/**
 * Listens on the control socket of `dataDir`. Call it holding the data directory's lock: a socket
 * file found there is then a dead server's (a kill -9 leaves it behind) and is removed first.
 */
export async function listenForCommands(store: Store, dataDir: string, logger: Logger): Promise<Server | null> {
  const path = controlSocketPath(dataDir);
  const address = reachable(path);
  if (address === null) {
    logger.warn({ path }, 'the control socket path is too long for a Unix socket: vbapi administration commands cannot reach this server');
    return null;
  }
  rmSync(path, { force: true });
  const server = createServer((socket) => void serveOne(socket, store, logger));
  // Created 0600 from the start (umask for the bind), not chmod-ed after: no moment when others may connect.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(address, () => {
        server.off('error', fail);
        done();
      });
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o600);
  server.on('error', (error) => logger.error({ err: error }, 'control socket failed'));
  return server;
}

export async function closeCommands(server: Server | null, dataDir: string): Promise<void> {
  if (!server) return;
  await new Promise<void>((done) => server.close(() => done()));
  rmSync(controlSocketPath(dataDir), { force: true });
}

async function serveOne(socket: Socket, store: Store, logger: Logger): Promise<void> {
  socket.on('error', () => undefined); // a client that went away: nothing to answer
  let answer: ControlAnswer;
  try {
    const request = parseRequest(await firstLine(socket));
    const stdout: string[] = [];
    const stderr: string[] = [];
    const context = { store, out: (line: string) => stdout.push(`${line}\n`), err: (line: string) => stderr.push(`${line}\n`), stdin: () => request.stdin ?? '' };
    let exitCode: number;
    let name = '';
    try {
      const { positionals, values } = parseCommandLine(request.argv);
      const call = invocation(positionals, values);
      name = call.name;
      exitCode = await execute(call, context, (error) => logger.error({ err: error, command: name }, 'administration command failed'));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      context.err(`vbapi: ${error.message}`);
      exitCode = 2;
    }
    logger.info({ command: name || undefined, exitCode }, 'ran an administration command for vbapi');
    answer = { exitCode, stdout: stdout.join(''), stderr: stderr.join('') };
  } catch (error) {
    answer = { exitCode: 2, stdout: '', stderr: `vbapi: the server refused the request: ${(error as Error).message}\n` };
  }
  socket.end(`${JSON.stringify(answer)}\n`);
}

function parseRequest(line: string): ControlRequest {
  const request = JSON.parse(line) as unknown;
  const { argv, stdin } = (request ?? {}) as Record<string, unknown>;
  if (!Array.isArray(argv) || !argv.every((word) => typeof word === 'string') || (stdin !== undefined && typeof stdin !== 'string')) {
    throw new Error('expected {"argv": [strings], "stdin"?: string}');
  }
  return { argv, ...(stdin === undefined ? {} : { stdin }) };
}

/** The first line the peer sends (bounded), or what it sent before closing. */
function firstLine(socket: Socket): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      const end = chunk.indexOf(10);
      chunks.push(end === -1 ? chunk : chunk.subarray(0, end));
      size += chunk.length;
      if (end !== -1) finish();
      else if (size > MAX_REQUEST_BYTES) stop(new Error('request too large'));
    };
    const finish = () => {
      socket.off('data', onData);
      done(Buffer.concat(chunks).toString('utf8'));
    };
    const stop = (error: Error) => {
      socket.off('data', onData);
      fail(error);
    };
    socket.on('data', onData);
    socket.once('end', finish);
  });
}

/**
 * Sends a command to the server owning `dataDir`'s store. Null when no server listens there (no
 * socket, or a dead server's): the caller then waits for the lock or opens the store itself.
 */
export function sendToServer(dataDir: string, request: ControlRequest): Promise<ControlAnswer | null> {
  const address = reachable(controlSocketPath(dataDir));
  if (address === null) return Promise.resolve(null);
  return new Promise((done, fail) => {
    const socket = createConnection(address);
    const chunks: Buffer[] = [];
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected && ['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'].includes(error.code ?? '')) done(null);
      else fail(new Error(`the server's control socket failed: ${error.message}`));
    });
    socket.once('end', () => {
      try {
        done(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ControlAnswer);
      } catch {
        fail(new Error('the server closed the control socket without an answer'));
      }
    });
  });
}

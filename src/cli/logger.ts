import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from '../config.js';

/** Where logs go: stdout, or in tests anything writable that may say it is a terminal. */
export type LogOutput = NodeJS.WritableStream & { readonly isTTY?: boolean };

/**
 * The server's logger: JSON lines (for log collectors) unless a person is watching. `auto` = pretty
 * when stdout is a terminal. The pretty stream runs in this thread and writes synchronously, like
 * the JSON one, so log lines and what `serve` prints itself (the first-run block) never interleave.
 */
export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, stdout: LogOutput = process.stdout): Logger {
  const format = config.logFormat === 'auto' ? (stdout.isTTY ? 'pretty' : 'json') : config.logFormat;
  if (format === 'json') return pino({ level: config.logLevel }, stdout === process.stdout ? pino.destination({ dest: 1, sync: true }) : stdout);
  return pino(
    { level: config.logLevel },
    pretty({
      destination: stdout,
      sync: true,
      colorize: Boolean(stdout.isTTY),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      // One line per event; the request and the response objects stay on it, compactly.
      singleLine: true,
    }),
  );
}

import { parseArgs } from 'node:util';

/**
 * The command line's words and options, apart from the commands themselves: `vbapi serve` parses
 * its options with these and opens its store before it loads anything else (see serve.ts).
 */

export class UsageError extends Error {}

export type Values = {
  port?: string;
  url?: string;
  code?: string;
  password?: string;
  'password-stdin'?: boolean;
  database?: string[];
  administrator?: boolean;
  temporary?: boolean;
  yes?: boolean;
  force?: boolean;
  help?: boolean;
};

export const OPTIONS = {
  port: { type: 'string' },
  url: { type: 'string' },
  code: { type: 'string' },
  password: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  database: { type: 'string', multiple: true },
  administrator: { type: 'boolean' },
  temporary: { type: 'boolean' },
  yes: { type: 'boolean' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** parseArgs, its errors turned into one line (its own text is long and names internals). */
export function parseCommandLine(argv: string[]): { positionals: string[]; values: Values } {
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

export function allowOnly(name: string, allowed: readonly string[] | undefined, values: Values): void {
  if (!allowed) return;
  const extra = Object.keys(values).filter((option) => option !== 'help' && !allowed.includes(option));
  if (extra.length) throw new UsageError(`${name} does not take --${extra[0]}; see "vbapi help ${name}"`);
}

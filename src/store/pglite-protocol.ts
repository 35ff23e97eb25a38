/**
 * The messages between a PGlite database's worker thread and the thread that uses it.
 * Every request carries an `id`; the worker answers each with exactly one reply of that `id`.
 * A transaction is opened by `begin` (answered with its `tx` number once PGlite holds it
 * exclusively), used by `query`/`copy` naming that `tx`, and ended by `commit` or `rollback`.
 */
/** What every worker is started with besides its data directory: PGlite's code, compiled once by the owning thread. */
export interface PgliteAssets {
  readonly pgliteWasmModule: WebAssembly.Module;
  readonly initdbWasmModule: WebAssembly.Module;
  readonly fsBundle: Blob;
}

export type Request =
  | { readonly id: number; readonly op: 'query'; readonly sql: string; readonly params?: readonly unknown[]; readonly tx?: number; readonly values?: boolean }
  /** `sql` is the COPY … FROM '/dev/blob' statement pglite.ts derives from a record description. */
  | { readonly id: number; readonly op: 'copy'; readonly sql: string; readonly text: string; readonly tx?: number }
  | { readonly id: number; readonly op: 'begin' }
  | { readonly id: number; readonly op: 'commit' | 'rollback'; readonly tx: number }
  | { readonly id: number; readonly op: 'close' };

export type Reply =
  | { readonly id: number; readonly ok: true; readonly rows?: unknown[]; readonly tx?: number }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

/** An error's message and the fields the store classifies on (SQLSTATE `code`, constraint, …); never the query's parameters. */
export interface SerializedError {
  readonly message: string;
  readonly name: string;
  readonly fields: Readonly<Record<string, string | number>>;
}

/** What may cross: PostgreSQL's error fields (scalars only). `params` (record data) and `query` never do. */
const FIELDS = ['code', 'severity', 'detail', 'hint', 'position', 'internalPosition', 'where', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine'];

export function serializeError(error: unknown): SerializedError {
  const source = (error && typeof error === 'object' ? error : {}) as Record<string, unknown>;
  const fields: Record<string, string | number> = {};
  for (const name of FIELDS) {
    const value = source[name];
    if (typeof value === 'string' || typeof value === 'number') fields[name] = value;
  }
  return {
    message: error instanceof Error ? error.message : String(error),
    name: error instanceof Error ? error.name : 'Error',
    fields,
  };
}

/** The error as callers see it: an Error with the same message and PostgreSQL fields. */
export function deserializeError(serialized: SerializedError): Error {
  const error = new Error(serialized.message);
  error.name = serialized.name;
  return Object.assign(error, serialized.fields);
}

import { operations } from './operation-table.js';

/** The vendor's base path: every operation is also served under it. */
export const VENDOR_PREFIX = '/vbasoftware';

/** The first path segments of the operations: `/vbasoftware/<one of these>…` is served as `/<…>`. */
const operationRoots = new Set(operations.map((operation) => operation.path.split('/')[1]));

/**
 * `/vbasoftware/groups/X` → `/groups/X`, before routing, so the API is registered (and its
 * validators compiled) once. Only operations are aliased: `/vbasoftware/docs` stays unknown, as
 * before. `request.originalUrl` keeps what the client sent (problem details' `instance`).
 */
export function withoutVendorPrefix(url: string): string {
  if (!url.startsWith(`${VENDOR_PREFIX}/`)) return url;
  const rest = url.slice(VENDOR_PREFIX.length);
  const root = /^\/([^/?#]*)/.exec(rest)?.[1] ?? '';
  return operationRoots.has(root) ? rest : url;
}

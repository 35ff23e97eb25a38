/**
 * Every header name the API defines or reads, once, in lower case (how Node presents request
 * headers and how Fastify stores reply headers). The OpenAPI document prints the IETF ones in
 * their registered spelling (`Idempotency-Key`, `Retry-After`): see `documentedName`.
 */
export const HEADER = {
  authorization: 'authorization',
  contentType: 'content-type',
  apiKey: 'x-api-key',
  database: 'vbasoftware-database',
  clientId: 'vbasoftware-client-id',
  clientCode: 'vbasoftware-client-code',
  idempotencyKey: 'idempotency-key',
  prefer: 'prefer',
  expiredIdToken: 'expired-id-token',
  refreshToken: 'refresh-token',
  pagination: 'x-pagination',
  activityId: 'x-activity-id',
  retryAfter: 'retry-after',
  batchSummary: 'x-batch-summary',
  idempotentReplayed: 'idempotent-replayed',
  preferenceApplied: 'preference-applied',
} as const;

/** What a browser may send (CORS): the credentials, the tenancy and the request options. */
export const REQUEST_HEADERS = [
  HEADER.authorization,
  HEADER.contentType,
  HEADER.apiKey,
  HEADER.database,
  HEADER.clientId,
  HEADER.clientCode,
  HEADER.idempotencyKey,
  HEADER.prefer,
  HEADER.expiredIdToken,
  HEADER.refreshToken,
] as const;

/** What a browser may read (CORS). */
export const RESPONSE_HEADERS = [
  HEADER.pagination,
  HEADER.activityId,
  HEADER.retryAfter,
  HEADER.batchSummary,
  HEADER.idempotentReplayed,
  HEADER.preferenceApplied,
] as const;

const REGISTERED = new Set<string>([HEADER.idempotencyKey, HEADER.prefer, HEADER.retryAfter, HEADER.idempotentReplayed, HEADER.preferenceApplied]);

/** `retry-after` → `Retry-After` for the IETF-registered headers; the API's own stay lower case. */
export const documentedName = (name: string): string =>
  REGISTERED.has(name) ? name.replace(/(^|-)[a-z]/g, (letter) => letter.toUpperCase()) : name;

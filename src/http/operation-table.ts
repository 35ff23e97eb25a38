import { loginOperations } from '../auth/login.js';
import { mfaOperations } from '../auth/mfa-routes.js';
import { notImplementedOperations } from '../auth/not-implemented.js';
import { sessionOperations } from '../auth/session-routes.js';
import { entities } from '../entities/index.js';
import { entityOperations } from '../resources/operations.js';
import { userOperations } from '../users/operations.js';
import { documentOperations } from './document-operations.js';
import { healthOperations } from './health.js';
import type { OperationGroup, OperationSpec } from './operation.js';

/**
 * Every operation the server answers, computed once at start-up, in the order of the OpenAPI
 * document's paths. The routes (`mountOperations`) and the document (`operationPaths`) are both
 * made from this list, so neither can name a path, status or parameter the other lacks.
 */
export const operationTable: readonly OperationGroup[] = [
  loginOperations,
  healthOperations,
  ...entities.map(entityOperations),
  userOperations,
  sessionOperations,
  mfaOperations,
  notImplementedOperations,
  documentOperations,
];

export const operations: readonly OperationSpec[] = operationTable.flatMap((group) => group.operations);

import { user } from '../entities/user.js';
import { body, parameter, ref, response, responses, type OperationGroup, type OperationSpec } from '../http/operation.js';
import { byOperationId, RECORD_ROLES, recordOperations } from '../resources/operations.js';
import { MAX_USER_BATCH_RECORDS } from './rules.js';
import { userHandlers } from './routes.js';

export type UserActionId = 'AdminDisableUser' | 'AdminEnableUser' | 'AdminResetPassword' | 'ChangePassword';

const records = recordOperations(user);
const remove = records.remove;
records.remove = {
  ...remove,
  responses: { ...remove.responses, 409: response(409, 'UsersVBAResponse', {}, 'Conflict: you cannot delete yourself') },
};

records.batch = {
  ...records.batch,
  description:
    `${records.batch.description ?? ''} ` +
    `At most ${MAX_USER_BATCH_RECORDS} users per request (fewer if VBAPI_MAX_BATCH_RECORDS is lower), 413 beyond: each may carry a password to hash.`,
};

const userIdParameter = { name: 'userID', in: 'path', required: true, description: 'user_ID', schema: { type: 'string', minLength: 1 } };

/** An action on one user, answering with a message (`StringVBAResponse`). */
function userAction(operationId: UserActionId, action: string, summary: string, extra: number[], requestBody?: object): OperationSpec<UserActionId> {
  return {
    operationId,
    method: 'post',
    path: `/users/{userID}/${action}`,
    access: 'bearer',
    tags: ['User'],
    summary,
    pathParameters: [parameter('database'), userIdParameter],
    ...(requestBody ? { requestBody } : {}),
    responses: responses('StringVBAResponse', { 200: response(200, 'StringVBAResponse') }, extra),
  };
}

const actions: readonly OperationSpec<UserActionId>[] = [
  userAction('AdminDisableUser', 'admin-disable', 'Disable a user: no more logins, and every session of the user ends', [404]),
  userAction('AdminEnableUser', 'admin-enable', 'Enable a disabled user', [404]),
  userAction('AdminResetPassword', 'admin-reset-password', 'Set a new random temporary password (returned once in `data`); the user\'s sessions end', [404]),
  userAction(
    'ChangePassword',
    'change-password',
    'Change your own password (no administrator needed; 403 for another user, 401 for a wrong previous password)',
    [404, 415],
    body(ref('UserResetPasswordRequest'), 'The previous and the proposed password'),
  ),
];

/** Contract 6.2: the `Users` record's operations (registry-backed handlers) and the actions on one user. */
export const userOperations: OperationGroup = {
  operations: [...RECORD_ROLES.map((role) => records[role]), ...actions],
  handlers: (services) => {
    const handlers = userHandlers(services.auth, services.config);
    return { ...byOperationId(records, handlers.records), ...handlers.actions };
  },
};

import type { FastifyRequest, RouteHandlerMethod } from 'fastify';
import { describeErrors, recordValidator, type FieldError, type Row } from '../derive/validate.js';
import { user } from '../entities/user.js';
import { success } from '../http/envelope.js';
import { ApiError, badRequest, forbidden, notFound, payloadTooLarge } from '../http/errors.js';
import { caller, unauthorized, type AuthServices } from '../auth/guard.js';
import { passwordProblem } from '../auth/password-policy.js';
import { hashPassword } from '../auth/secrets.js';
import { parseListQuery } from '../resources/list-query.js';
import { sendListPage } from '../resources/list-response.js';
import { disableUser, enableUser, resetPassword, type UserAdmin } from './admin.js';
import type { Handler } from '../http/operation.js';
import type { RecordRole } from '../resources/operations.js';
import { upsertUsers } from './batch.js';
import type { UserActionId } from './operations.js';
import { MAX_USER_BATCH_RECORDS, newUserProblems } from './rules.js';
import { UserDirectory, type Scope } from './directory.js';
import { newPassword, objectBody, presentText, refuse, requireOwnAccessToken } from '../auth/request-body.js';

export interface UserHandlers {
  readonly records: Record<RecordRole, Handler>;
  readonly actions: Record<UserActionId, Handler>;
}

export interface UserRouteOptions {
  readonly maxBatchRecords: number;
  readonly maxTextChars: number;
}

/**
 * Contract 6.2, inside the authenticated, tenant-resolved scope: every route but change-password
 * needs an administrator (403 otherwise), and sees only its client's users granted the request's
 * database (others are 404).
 */
export function userHandlers(services: AuthServices, options: UserRouteOptions): UserHandlers {
  const directory = new UserDirectory(services.registry);
  const validate = recordValidator(user, options);
  const maxUserBatch = Math.min(options.maxBatchRecords, MAX_USER_BATCH_RECORDS);
  const scopeOf = (request: FastifyRequest): Scope => ({ clientId: caller(request).clientId, database: caller(request).database });
  const by = (request: FastifyRequest) => caller(request).username;
  const administrator = async (request: FastifyRequest) => {
    const { clientId, username } = caller(request);
    if (!(await directory.isAdministrator(clientId, username))) throw forbidden('Only an administrator may manage users');
  };
  const admin = (handler: RouteHandlerMethod): Handler => ({ preHandler: administrator, handler });
  const userIdOf = (request: FastifyRequest) => (request.params as { userID: string }).userID;
  const checked = (body: unknown) => {
    const result = validate(body);
    if (!result.ok) throw badRequest(describeErrors(result.errors), result.errors);
    return result.row;
  };
  const hash = (request: FastifyRequest, password: string) => services.logins.hash(caller(request).clientId, () => hashPassword(password));
  const found = async (request: FastifyRequest, userId: string) => {
    const record = await directory.get(scopeOf(request), userId);
    if (!record) throw notFound(`No user "${userId}"`);
    return record;
  };

  const list = admin(async (request, reply) => {
    const query = parseListQuery(user, request.query as Record<string, unknown>);
    const scope = scopeOf(request);
    return sendListPage(
      request,
      reply,
      async (sink) => {
        const total = await directory.count(scope);
        sink.start(total);
        const records = await directory.page(scope, query.order, query.pageSize, (query.page - 1) * query.pageSize);
        await sink.write(records.map((record) => JSON.stringify(record)).join(','), true);
      },
      (total) => ({ TotalCount: total, TotalPages: Math.ceil(total / query.pageSize), CurrentPage: query.page, PageSize: query.pageSize }),
    );
  });

  const get = admin(async (request) => success(request.id, await found(request, userIdOf(request))));

  const create = admin(async (request) => {
    const row = checked(request.body);
    const errors = newUserProblems(row);
    // A new user without a password always has an error saying so.
    if (errors.length || row.password === null) throw badRequest(describeErrors(errors), errors);
    const passwordHash = await hash(request, row.password);
    const scope = scopeOf(request);
    if (!(await directory.insert(services.registry, scope, row, passwordHash, by(request)))) {
      throw new ApiError(409, `User "${row.user_ID}" already exists`);
    }
    return success(request.id, await directory.get(scope, row.user_ID));
  });

  const replace = admin(async (request) => {
    const userId = userIdOf(request);
    const body = request.body;
    if (body && typeof body === 'object' && !Array.isArray(body) && (body as Row).user_ID == null) (body as Row).user_ID = userId;
    const row = checked(body);
    if (row.user_ID !== userId) throw badRequest(`user_ID "${row.user_ID}" differs from the path's "${userId}"`, [{ field: 'user_ID', message: 'must be the path key' }]);
    const password = row.password;
    if (password != null) {
      const weak = passwordProblem(userId, password);
      if (weak) throw badRequest(`password: ${weak}`, [{ field: 'password', message: weak }]);
    }
    const passwordHash = password == null ? null : await hash(request, password);
    const scope = scopeOf(request);
    const replaced = await services.registry.transaction(async (tx) => {
      const done = await directory.replace(tx, scope, row, passwordHash, by(request));
      // A new (temporary) password set by an administrator ends the user's sessions, as a reset does.
      if (done && passwordHash !== null) await services.sessions.revokeUser(scope.clientId, userId, 'password set by an administrator', tx);
      return done;
    });
    if (!replaced) throw notFound(`No user "${userId}"`);
    return success(request.id, await directory.get(scope, userId));
  });

  const remove = admin(async (request, reply) => {
    const userId = userIdOf(request);
    const scope = scopeOf(request);
    if (userId === by(request)) {
      await found(request, userId);
      throw new ApiError(409, 'You cannot delete yourself');
    }
    // Sessions (and grants, challenges) go with the user (ON DELETE CASCADE); revoking first clears this instance's cache.
    await services.sessions.revokeUser(scope.clientId, userId, 'user deleted');
    if (!(await directory.remove(services.registry, scope, userId))) throw notFound(`No user "${userId}"`);
    return reply.code(204).send();
  });

  const batch = admin(async (request, reply) => {
    const body = request.body;
    if (!Array.isArray(body)) throw badRequest('The request body must be a JSON array of records');
    if (body.length > maxUserBatch) {
      throw payloadTooLarge(`A batch of users may hold at most ${maxUserBatch} records (each may carry a password to hash); this one has ${body.length}`);
    }
    const data = await upsertUsers(body, {
      validate,
      directory,
      services,
      scope: scopeOf(request),
      by: by(request),
      activityID: request.id,
      log: request.log,
    });
    return reply.code(207).send(success(request.id, data));
  });

  // The same functions as `vbapi user disable|enable|reset-password` (users/admin.ts).
  const adminOf = (request: FastifyRequest): UserAdmin => ({ directory, sessions: services.sessions, hash: (password) => hash(request, password) });

  const AdminDisableUser = admin(async (request) => {
    const userId = userIdOf(request);
    if (!(await disableUser(adminOf(request), scopeOf(request), userId, by(request)))) throw notFound(`No user "${userId}"`);
    return success(request.id, `User ${userId} is disabled`);
  });

  const AdminEnableUser = admin(async (request) => {
    const userId = userIdOf(request);
    if (!(await enableUser(adminOf(request), scopeOf(request), userId, by(request)))) throw notFound(`No user "${userId}"`);
    return success(request.id, `User ${userId} is enabled`);
  });

  const AdminResetPassword = admin(async (request) => {
    const userId = userIdOf(request);
    const password = await resetPassword(adminOf(request), scopeOf(request), userId, by(request));
    if (password === null) throw notFound(`No user "${userId}"`);
    // The new temporary password, shown this once: the user must replace it at the next login.
    return success(request.id, password);
  });

  // Any user, for themself: no administrator needed.
  const ChangePassword: RouteHandlerMethod = async (request) => {
    const userId = userIdOf(request);
    const { clientId, username } = caller(request);
    if (userId !== username) throw forbidden('You may change only your own password');
    const body = objectBody(request, 'UserResetPasswordRequest', 'refused');
    const errors: FieldError[] = [];
    const previousPassword = presentText(body, 'previousPassword', errors);
    const proposedPassword = newPassword(body, 'proposedPassword', userId, errors);
    refuse(errors);
    requireOwnAccessToken(services.tokens, request, body);
    const login = await services.accounts.verifyLogin(clientId, username, previousPassword, (check) => services.logins.hash(clientId, check));
    if (!login.ok) throw unauthorized();
    const passwordHash = await hash(request, proposedPassword);
    await directory.setState(scopeOf(request), userId, { passwordHash, temporary: false }, username);
    return success(request.id, 'Password changed');
  };

  return {
    records: { list, create, get, replace, remove, batch },
    actions: { AdminDisableUser, AdminEnableUser, AdminResetPassword, ChangePassword },
  };
}

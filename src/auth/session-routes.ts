import type { FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { UserAuthenticationResponse } from '../derive/shapes.js';
import type { FieldError } from '../derive/validate.js';
import { success } from '../http/envelope.js';
import { badRequest } from '../http/errors.js';
import { body, operationGroup, parameter, ref, response, responses } from '../http/operation.js';
import { DATABASE_HEADER } from '../http/tenancy.js';
import { findChallenge, consumeChallenge, sessionTokens } from './challenges.js';
import { caller, meteredApiKeyOwner, requireUserAgent, sameText, unauthorized, type AuthServices } from './guard.js';
import { afterPassword, header } from './login.js';
import { UserDirectory } from '../users/directory.js';
import { newPassword, objectBody, refuse, requiredText } from './request-body.js';
import { hashPassword } from './secrets.js';
import { HEADER } from '../http/headers.js';

const SESSION_WHY = 'Logged in; or a challenge (`challengeName` NEW_PASSWORD_REQUIRED or SOFTWARE_TOKEN_MFA with a single-use `session`, 5 minutes) instead of tokens';
const tags = ['Authentication'];
const keyOnlyParameters = [parameter('clientId'), parameter('clientCode'), parameter('database')];

/**
 * 6.3. The "key only" operations: an API key and the client's id and code, like login, but no
 * password: a challenge's session value or a refresh token stands in for it. Then the bearer
 * operations on one's own sessions.
 */
export const sessionOperations = operationGroup(
  [
    {
      operationId: 'ChangeTemporaryPassword',
      method: 'post',
      path: '/change-temporary-password',
      access: 'key',
      tags,
      summary: 'Answer NEW_PASSWORD_REQUIRED: replace the temporary password, then get tokens or the MFA challenge',
      parameters: keyOnlyParameters,
      requestBody: body(ref('UserChangeTempPasswordRequest'), 'The user, the new password and the challenge\'s session'),
      responses: responses('UserChangeTempPasswordResponseVBAResponse', {
        200: response(200, 'UserChangeTempPasswordResponseVBAResponse', {}, SESSION_WHY),
      }, [415]),
    },
    {
      operationId: 'RefreshTokens',
      method: 'post',
      path: '/user-refresh-tokens',
      access: 'key',
      tags,
      summary: 'New tokens and a new refresh token for a session; a refresh token works once (reuse ends the session)',
      parameters: [...keyOnlyParameters, parameter('expiredIdToken'), parameter('refreshToken')],
      responses: responses('UserAuthenticationResponseVBAResponse', { 200: response(200, 'UserAuthenticationResponseVBAResponse') }, []),
    },
    {
      operationId: 'Logout',
      method: 'post',
      path: '/logout',
      access: 'bearer',
      tags,
      summary: 'End this session: its id, access and refresh tokens stop working on every server instance',
      pathParameters: [parameter('database')],
      responses: responses('StringVBAResponse', { 204: response(204, null) }, []),
    },
    {
      operationId: 'Kick',
      method: 'post',
      path: '/kick',
      access: 'bearer',
      tags,
      summary: 'End your own longest-running other session (none: nothing happens)',
      pathParameters: [parameter('database')],
      responses: responses('StringVBAResponse', { 204: response(204, null) }, []),
    },
  ],
  ({ auth }) => ({
    ChangeTemporaryPassword: changeTemporaryPassword(auth),
    RefreshTokens: refreshTokens(auth),
    Logout: async (request, reply) => {
      await auth.sessions.revoke(caller(request).sessionId, 'logout');
      return reply.code(204).send();
    },
    Kick: async (request, reply) => {
      const { clientId, username, sessionId } = caller(request);
      await auth.sessions.kickOldestOther(clientId, username, sessionId);
      return reply.code(204).send();
    },
  }),
);

function changeTemporaryPassword(services: AuthServices): RouteHandlerMethod {
  const directory = new UserDirectory(services.registry);
  return async (request) => {
    const { clientId, database } = await keyOnly(request, services);
    const body = objectBody(request, 'UserChangeTempPasswordRequest', 'refused');
    const errors: FieldError[] = [];
    const userID = requiredText(body, 'userID', errors);
    const session = requiredText(body, 'session', errors);
    const password = newPassword(body, 'newPassword', userID, errors);
    refuse(errors);

    // Looked at first, used up only once the new password is stored: a refused request leaves it usable.
    const challenge = await findChallenge(services.registry, session, 'NEW_PASSWORD_REQUIRED');
    if (!challenge || challenge.clientId !== clientId || challenge.username !== userID || challenge.database !== database) throw unauthorized();
    const hash = await services.logins.hash(clientId, () => hashPassword(password));
    if (!(await consumeChallenge(services.registry, session, 'NEW_PASSWORD_REQUIRED'))) throw unauthorized();
    await directory.setState({ clientId, database: null }, challenge.username, { passwordHash: hash, temporary: false }, challenge.username);
    return success(request.id, await afterPassword(services, challenge, false));
  };
}

function refreshTokens(services: AuthServices): RouteHandlerMethod {
  return async (request) => {
    const { clientId, database } = await keyOnly(request, services);
    const refreshToken = header(request, HEADER.refreshToken);
    const expired = services.tokens.verifyIgnoringExpiry(header(request, HEADER.expiredIdToken));
    if (!refreshToken || !expired?.sessionId) throw unauthorized();
    const rotated = await services.sessions.rotate(
      clientId,
      refreshToken,
      // The expired id token must belong to the same session (and so the same user and database).
      (sessionId, owner) => sessionId === expired.sessionId && owner.database === database && owner.username === expired.username,
    );
    if (!rotated.ok) {
      if (rotated.reused) request.log.warn({ clientId }, 'refresh token reused: its session ended');
      throw unauthorized();
    }
    return success<UserAuthenticationResponse>(request.id, {
      challengeName: null,
      session: null,
      authenticationResult: await sessionTokens(services.tokens, { ...rotated.owner, sessionId: rotated.sessionId }, rotated.refreshToken),
    });
  };
}

/** The API key's client must be the one named, with its code; the database header must be there. */
export async function keyOnly(request: FastifyRequest, services: AuthServices): Promise<{ clientId: string; database: string }> {
  requireUserAgent(request);
  const owner = await meteredApiKeyOwner(request, services);
  const clientId = header(request, HEADER.clientId);
  if (clientId !== owner.clientId) throw unauthorized();
  const storedCode = await services.accounts.clientCode(clientId);
  if (storedCode === null || !sameText(storedCode, header(request, HEADER.clientCode))) throw unauthorized();
  const database = header(request, DATABASE_HEADER);
  if (!database) throw badRequest(`The ${DATABASE_HEADER} header is required`);
  return { clientId, database };
}

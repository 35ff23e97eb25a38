import type { FastifyInstance, FastifyRequest } from 'fastify';
import { success } from '../http/envelope.js';
import { badRequest } from '../http/errors.js';
import { DATABASE_HEADER } from '../http/tenancy.js';
import { findChallenge, consumeChallenge } from './challenges.js';
import { apiKeyOwner, requireUserAgent, sameText, unauthorized, type AuthServices } from './guard.js';
import { afterPassword, header } from './login.js';
import { passwordProblem } from './password-policy.js';
import { hashPassword } from './secrets.js';

/**
 * The "key only" routes of 6.3: an API key and the client's id and code, like login, but no
 * password: a challenge's session value or a refresh token stands in for it.
 */
export function challengeRoutes(app: FastifyInstance, services: AuthServices): void {
  app.post('/change-temporary-password', async (request) => {
    const { clientId, database } = await keyOnly(request, services);
    const body = request.body as Record<string, unknown> | undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The body must be a UserChangeTempPasswordRequest object');
    const { userID, newPassword, session } = body;
    const errors = [];
    if (typeof userID !== 'string' || userID === '') errors.push({ field: 'userID', message: 'is required' });
    if (typeof session !== 'string' || session === '') errors.push({ field: 'session', message: 'is required' });
    const weak = passwordProblem(typeof userID === 'string' ? userID : '', newPassword);
    if (weak) errors.push({ field: 'newPassword', message: weak });
    if (errors.length) throw badRequest(errors.map((error) => `${error.field}: ${error.message}`).join('; '), errors);

    // Looked at first, used up only once the new password is stored: a refused request leaves it usable.
    const challenge = await findChallenge(services.registry, session as string, 'NEW_PASSWORD_REQUIRED');
    if (!challenge || challenge.clientId !== clientId || challenge.username !== userID || challenge.database !== database) throw unauthorized();
    const hash = await services.logins.hash(clientId, () => hashPassword(newPassword as string));
    if (!(await consumeChallenge(services.registry, session as string, 'NEW_PASSWORD_REQUIRED'))) throw unauthorized();
    await services.registry.query(
      `UPDATE users SET password_hash = $3, password_temporary = false, "update_Date" = now() WHERE client_id = $1 AND username = $2`,
      [clientId, challenge.username, hash],
    );
    return success(request.id, await afterPassword(services, challenge, false));
  });

  app.post('/user-refresh-tokens', async (request) => {
    const { clientId, database } = await keyOnly(request, services);
    const refreshToken = header(request, 'refresh-token');
    const expired = services.tokens.verifyIgnoringExpiry(header(request, 'expired-id-token'));
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
    const identity = { ...rotated.owner, sessionId: rotated.sessionId };
    const [idToken, accessToken] = await Promise.all([services.tokens.issue(identity, 'id'), services.tokens.issue(identity, 'access')]);
    return success(request.id, {
      challengeName: null,
      session: null,
      authenticationResult: { accessToken, idToken, refreshToken: rotated.refreshToken, expiresIn: services.tokens.lifetimeSeconds },
    });
  });
}

/** `POST /logout` and `POST /kick`: bearer routes, registered in the authenticated scope. */
export function sessionRoutes(app: FastifyInstance, services: AuthServices): void {
  app.post('/logout', async (request, reply) => {
    await services.sessions.revoke(request.identity!.sessionId!, 'logout');
    return reply.code(204).send();
  });

  app.post('/kick', async (request, reply) => {
    const { clientId, username, sessionId } = request.identity!;
    await services.sessions.kickOldestOther(clientId, username, sessionId!);
    return reply.code(204).send();
  });
}

/** The API key's client must be the one named, with its code; the database header must be there. */
export async function keyOnly(request: FastifyRequest, services: AuthServices): Promise<{ clientId: string; database: string }> {
  requireUserAgent(request);
  const owner = await apiKeyOwner(request, services);
  const clientId = header(request, 'vbasoftware-client-id');
  if (clientId !== owner.clientId) throw unauthorized();
  const storedCode = await services.accounts.clientCode(clientId);
  if (storedCode === null || !sameText(storedCode, header(request, 'vbasoftware-client-code'))) throw unauthorized();
  const database = header(request, DATABASE_HEADER);
  if (!database) throw badRequest(`The ${DATABASE_HEADER} header is required`);
  return { clientId, database };
}

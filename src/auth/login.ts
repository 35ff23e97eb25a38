import type { FastifyInstance, FastifyRequest } from 'fastify';
import { success } from '../http/envelope.js';
import { badRequest, forbidden } from '../http/errors.js';
import { DATABASE_HEADER } from '../http/tenancy.js';
import { apiKeyOwner, requireUserAgent, sameText, unauthorized, type AuthServices } from './guard.js';

/**
 * `POST /user-authentication`: an API key, Basic credentials, the client id and code, and the
 * database → signed tokens. Wrong password, unknown user, wrong client code and a key of another
 * client all get the same 401.
 */
export function loginRoute(app: FastifyInstance, services: AuthServices): void {
  app.post('/user-authentication', async (request) => {
    requireUserAgent(request);
    const owner = await apiKeyOwner(request, services);
    const clientId = header(request, 'vbasoftware-client-id');
    const clientCode = header(request, 'vbasoftware-client-code');
    const basic = basicCredentials(request.headers.authorization);
    if (!basic || clientId !== owner.clientId) throw unauthorized();
    await services.logins.admit(clientId, basic.username);
    const storedCode = await services.accounts.clientCode(clientId);
    const passwordOk = await services.accounts.checkPassword(clientId, basic.username, basic.password, (hash) =>
      services.logins.hash(clientId, hash),
    );
    if (!passwordOk || storedCode === null || !sameText(storedCode, clientCode)) throw unauthorized();

    const database = header(request, DATABASE_HEADER);
    if (!database) throw badRequest(`The ${DATABASE_HEADER} header is required`);
    if (!(await services.accounts.mayUse(clientId, basic.username, database))) throw forbidden('You may not use this database');

    const identity = { username: basic.username, clientId, database };
    const [idToken, accessToken, refreshToken] = await Promise.all([
      services.tokens.issue(identity, 'id'),
      services.tokens.issue(identity, 'access'),
      services.tokens.issue(identity, 'refresh'),
    ]);
    return success(request.id, {
      challengeName: null,
      session: null,
      authenticationResult: { accessToken, idToken, refreshToken, expiresIn: services.tokens.lifetimeSeconds },
    });
  });
}

function header(request: FastifyRequest, name: string): string {
  const value = request.headers[name];
  return typeof value === 'string' ? value : '';
}

function basicCredentials(authorization: string | undefined): { username: string; password: string } | null {
  const match = /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

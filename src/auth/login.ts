import type { FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { UserAuthenticationResponse } from '../derive/shapes.js';
import { success } from '../http/envelope.js';
import { badRequest, forbidden } from '../http/errors.js';
import { operationGroup, parameter, response, responses } from '../http/operation.js';
import { DATABASE_HEADER } from '../http/tenancy.js';
import { createChallenge, issueSession, type ChallengeSubject } from './challenges.js';
import { meteredApiKeyOwner, requireUserAgent, sameText, unauthorized, type AuthServices } from './guard.js';
import { mfaRequired } from './mfa-state.js';
import { HEADER } from '../http/headers.js';

/**
 * `POST /user-authentication`: an API key, Basic credentials, the client id and code, and the
 * database → signed tokens, or a challenge (6.3). Wrong password, unknown user, disabled or
 * locked-out user, wrong client code and a key of another client all get the same 401.
 */
export const loginOperations = operationGroup(
  [
    {
      operationId: 'UserAuthentication',
      method: 'post',
      path: '/user-authentication',
      access: 'key+basic',
      tags: ['Authentication'],
      summary: 'Log in: Basic credentials and an API key for a bearer token',
      description: 'Use `authenticationResult.idToken` as `Authorization: Bearer <idToken>` on every other call, with the same API key and database.',
      parameters: [parameter('clientId'), parameter('clientCode'), parameter('database')],
      // 415: login takes no body, but one sent with a type the server does not parse (curl -d's form type) is refused as unsupported.
      responses: responses('UserAuthenticationResponseVBAResponse', { 200: response(200, 'UserAuthenticationResponseVBAResponse') }, [415]),
    },
  ],
  ({ auth }) => ({ UserAuthentication: login(auth) }),
);

function login(services: AuthServices): RouteHandlerMethod {
  return async (request) => {
    requireUserAgent(request);
    const owner = await meteredApiKeyOwner(request, services);
    const clientId = header(request, HEADER.clientId);
    const clientCode = header(request, HEADER.clientCode);
    const basic = basicCredentials(request.headers.authorization);
    if (!basic || clientId !== owner.clientId) throw unauthorized();
    await services.logins.admit(clientId, basic.username);
    // A locked username (known or not) is refused before any hash: same answer, less work.
    if (await services.lockout.isLocked(clientId, basic.username)) throw unauthorized();
    const storedCode = await services.accounts.clientCode(clientId);
    const login = await services.accounts.verifyLogin(clientId, basic.username, basic.password, (hash) =>
      services.logins.hash(clientId, hash),
    );
    if (!login.passwordOk) await services.lockout.recordFailure(clientId, basic.username);
    if (!login.ok || storedCode === null || !sameText(storedCode, clientCode)) throw unauthorized();
    await services.lockout.clear(clientId, basic.username);

    const database = header(request, DATABASE_HEADER);
    if (!database) throw badRequest(`The ${DATABASE_HEADER} header is required`);
    if (!(await services.accounts.mayUse(clientId, basic.username, database))) throw forbidden('You may not use this database');

    return success(request.id, await afterPassword(services, { username: basic.username, clientId, database }, login.temporary));
  };
}

/**
 * What follows a right password: the temporary-password challenge, then the MFA challenge, then
 * tokens. change-temporary-password continues here with `temporary` false.
 */
export async function afterPassword(services: AuthServices, subject: ChallengeSubject, temporary: boolean): Promise<UserAuthenticationResponse> {
  const challenge = temporary
    ? ('NEW_PASSWORD_REQUIRED' as const)
    : (await mfaRequired(services.registry, subject.clientId, subject.username))
      ? ('SOFTWARE_TOKEN_MFA' as const)
      : null;
  if (challenge) {
    const session = await createChallenge(services.registry, { ...subject, kind: challenge });
    return { challengeName: challenge, session, authenticationResult: null };
  }
  return { challengeName: null, session: null, authenticationResult: await issueSession(services, subject) };
}

export function header(request: FastifyRequest, name: string): string {
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

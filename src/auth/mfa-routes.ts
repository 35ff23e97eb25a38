import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describeErrors, type FieldError } from '../derive/validate.js';
import { success } from '../http/envelope.js';
import { ApiError, badRequest, forbidden, notFound } from '../http/errors.js';
import { DEVICE_NAME_MAX } from '../entities/user.js';
import { UserDirectory } from '../users/directory.js';
import { consumeChallenge, findChallenge, issueSession, recordFailedTry } from './challenges.js';
import { unauthorized, type AuthServices } from './guard.js';
import type { MfaDevices } from './mfa-state.js';
import { keyOnly } from './session-routes.js';
import { enrolment } from './totp.js';

const DEFAULT_DEVICE_NAME = 'Authenticator app';

type Body = Record<string, unknown>;

/** The body as an object; none (or an empty one) reads as `{}`, anything else but an object is a 400. */
function objectBody(request: FastifyRequest, schemaName: string): Body {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest(`The body must be a ${schemaName} object`);
  return body as Body;
}

function refuse(errors: FieldError[]): void {
  if (errors.length) throw badRequest(describeErrors(errors), errors);
}

/**
 * Contract 6.4, in the authenticated, tenant-resolved scope: a user sets up their own TOTP device
 * (setup, then verify with a first code) and reads their status; administrators turn a user's MFA
 * on or off.
 */
export function mfaRoutes(app: FastifyInstance, services: AuthServices, devices: MfaDevices): void {
  const directory = new UserDirectory(services.registry);
  const caller = (request: FastifyRequest) => request.identity!;
  /** Generated clients send the caller's access token in the body; when one is there it must be the caller's. */
  const ownToken = (request: FastifyRequest, body: Body) => {
    const { accessToken } = body;
    if (accessToken === undefined || accessToken === null || accessToken === '') return;
    const named = typeof accessToken === 'string' ? services.tokens.verify(accessToken) : null;
    if (named?.username !== caller(request).username || named.clientId !== caller(request).clientId) throw unauthorized();
  };

  app.post('/mfa-setup', async (request) => {
    ownToken(request, objectBody(request, 'MFADeviceSetupRequest'));
    const { clientId, username } = caller(request);
    const secretCode = await devices.startSetup(clientId, username);
    const { qrCode } = await enrolment(secretCode, `${username} (${clientId})`);
    return success(request.id, { qrCode, secretCode });
  });

  app.post('/mfa-verify-setup', async (request) => {
    const body = objectBody(request, 'VerifyMFADeviceSetupRequest');
    const { userCode, friendlyDeviceName } = body;
    const errors: FieldError[] = [];
    if (typeof userCode !== 'string' || userCode === '') errors.push({ field: 'userCode', message: 'is required: the 6-digit code the device shows' });
    if (friendlyDeviceName != null && (typeof friendlyDeviceName !== 'string' || friendlyDeviceName.length > DEVICE_NAME_MAX)) {
      errors.push({ field: 'friendlyDeviceName', message: `must be a string of at most ${DEVICE_NAME_MAX} characters` });
    }
    refuse(errors);
    ownToken(request, body);
    const { clientId, username } = caller(request);
    const name = typeof friendlyDeviceName === 'string' && friendlyDeviceName.trim() !== '' ? friendlyDeviceName.trim() : DEFAULT_DEVICE_NAME;
    const outcome = await devices.verifySetup(clientId, username, userCode as string, name);
    if (!outcome.ok) {
      const message =
        outcome.reason === 'no-setup' ? 'no device setup is pending: call /mfa-setup first'
        : outcome.triesLeft > 0 ? `is not the device's current code (${outcome.triesLeft} tries left for this setup)`
        : 'is not the device\'s current code; this setup is discarded: call /mfa-setup again';
      refuse([{ field: 'userCode', message }]);
    }
    return success(request.id, { status: 'SUCCESS' });
  });

  app.get('/mfa-status', async (request) => success(request.id, await devices.enabled(caller(request).clientId, caller(request).username)));

  /** The administrator routes' target: a user of the caller's client granted this database (else 404). */
  const target = async (request: FastifyRequest, schemaName: string): Promise<string> => {
    const { clientId, username, database } = caller(request);
    if (!(await directory.isAdministrator(clientId, username))) throw forbidden('Only an administrator may turn MFA on or off for a user');
    const { user_ID: userId } = objectBody(request, schemaName);
    if (typeof userId !== 'string' || userId === '') refuse([{ field: 'user_ID', message: 'is required' }]);
    if (!(await directory.get({ clientId, database }, userId as string))) throw notFound(`No user "${userId as string}"`);
    return userId as string;
  };

  app.post('/mfa-enable', async (request) => {
    const userId = await target(request, 'EnableMFASetupRequest');
    if (!(await devices.enable(caller(request).clientId, userId))) {
      throw new ApiError(409, `User "${userId}" has no verified MFA device: they must run /mfa-setup and /mfa-verify-setup first`);
    }
    return success(request.id, `MFA is enabled for user ${userId}`);
  });

  app.post('/mfa-disable', async (request) => {
    const userId = await target(request, 'DisableMFASetupRequest');
    await devices.disable(caller(request).clientId, userId);
    return success(request.id, `MFA is disabled for user ${userId}; their device is forgotten`);
  });
}

/**
 * `POST /mfa-submit-code` (6.3), key only: the answer to a login's SOFTWARE_TOKEN_MFA challenge.
 * A wrong (or replayed) code is a 401 and costs one of the challenge's tries and counts as a failed
 * login for the lockout, so guessing codes is bounded by both.
 */
export function mfaChallengeRoutes(app: FastifyInstance, services: AuthServices, devices: MfaDevices): void {
  app.post('/mfa-submit-code', async (request) => {
    const { clientId, database } = await keyOnly(request, services);
    const { username, mfaCode, session } = objectBody(request, 'SubmitMFACodeRequest');
    const errors: FieldError[] = [];
    if (typeof username !== 'string' || username === '') errors.push({ field: 'username', message: 'is required' });
    if (typeof mfaCode !== 'string' || mfaCode === '') errors.push({ field: 'mfaCode', message: 'is required' });
    if (typeof session !== 'string' || session === '') errors.push({ field: 'session', message: 'is required' });
    refuse(errors);

    const challenge = await findChallenge(services.registry, session as string, 'SOFTWARE_TOKEN_MFA');
    if (!challenge || challenge.clientId !== clientId || challenge.username !== username || challenge.database !== database) throw unauthorized();
    if (await services.lockout.isLocked(clientId, challenge.username)) throw unauthorized();
    const outcome = await devices.checkCode(clientId, challenge.username, mfaCode as string);
    if (outcome !== 'ok') {
      await recordFailedTry(services.registry, session as string);
      await services.lockout.recordFailure(clientId, challenge.username);
      if (outcome === 'replayed') request.log.info({ clientId }, 'an MFA code was presented again: refused');
      throw unauthorized();
    }
    if (!(await consumeChallenge(services.registry, session as string, 'SOFTWARE_TOKEN_MFA'))) throw unauthorized();
    await services.lockout.clear(clientId, challenge.username);
    return success(request.id, { challengeName: null, session: null, authenticationResult: await issueSession(services, challenge) });
  });
}

import type { FastifyRequest, RouteHandlerMethod } from 'fastify';
import type { FieldError } from '../derive/validate.js';
import { success } from '../http/envelope.js';
import { ApiError, forbidden, notFound } from '../http/errors.js';
import { body, operationGroup, parameter, ref, response, responses } from '../http/operation.js';
import { DEVICE_NAME_MAX } from '../entities/user.js';
import { UserDirectory } from '../users/directory.js';
import { consumeChallenge, findChallenge, issueSession, recordFailedTry } from './challenges.js';
import { caller, unauthorized, type AuthServices } from './guard.js';
import type { MfaDevices } from './mfa-state.js';
import { objectBody, refuse, requiredText, requireOwnAccessToken } from './request-body.js';
import { keyOnly } from './session-routes.js';
import { enrolment } from './totp.js';

const DEFAULT_DEVICE_NAME = 'Authenticator app';

const REPLAY =
  'A code is accepted once: a code of the same or an earlier 30-second step than the last one accepted for the user is refused (RFC 6238 section 5.2).';
const tags = ['MultiFactorAuth'];
const database = [parameter('database')];
const stringAnswer = (extra: number[]) => responses('StringVBAResponse', { 200: response(200, 'StringVBAResponse') }, extra);

/**
 * Contract 6.4 (bearer: the authenticated, tenant-resolved scope): a user sets up their own TOTP
 * device (setup, then verify with a first code) and reads their status; administrators turn a
 * user's MFA on or off. And `POST /mfa-submit-code` (6.3, key only): the answer to a login's
 * SOFTWARE_TOKEN_MFA challenge.
 */
export const mfaOperations = operationGroup(
  [
    {
      operationId: 'MFADeviceSetup',
      method: 'post',
      path: '/mfa-setup',
      access: 'bearer',
      tags,
      summary: 'Start setting up your TOTP device: a new secret (`secretCode`, base32) and its QR code (`qrCode`, a PNG data URL of the otpauth:// URI)',
      description:
        'Scan the QR code (or type the secret) into an authenticator app, then send its current code to /mfa-verify-setup. ' +
        'A device already verified keeps working until the new one is verified. The secret is shown this once and stored encrypted.',
      pathParameters: database,
      requestBody: body(ref('MFADeviceSetupRequest'), 'Your access token (optional; when given it must be yours)'),
      responses: responses('MFADeviceSetupResponseVBAResponse', { 200: response(200, 'MFADeviceSetupResponseVBAResponse') }, [415]),
    },
    {
      operationId: 'VerifyMFADeviceSetup',
      method: 'post',
      path: '/mfa-verify-setup',
      access: 'bearer',
      tags,
      summary: 'Finish the setup with the device\'s current code: MFA is then on (`mfA_Enabled` true, `mfA_Device_Name` the name given)',
      description: 'A wrong code is a 400 (`error.errors` names `userCode`); after 5 wrong codes the setup is discarded and /mfa-setup starts over. ' + REPLAY,
      pathParameters: database,
      requestBody: body(ref('VerifyMFADeviceSetupRequest'), 'The code the device shows, and a name for it'),
      responses: responses('VerifyMFADeviceSetupResponseVBAResponse', { 200: response(200, 'VerifyMFADeviceSetupResponseVBAResponse') }, [415]),
    },
    {
      operationId: 'GetMFAStatus',
      method: 'get',
      path: '/mfa-status',
      access: 'bearer',
      tags,
      summary: 'Whether MFA is on for you (your `mfA_Enabled`)',
      pathParameters: database,
      responses: responses('BooleanVBAResponse', { 200: response(200, 'BooleanVBAResponse') }, []),
    },
    {
      operationId: 'EnableMFA',
      method: 'post',
      path: '/mfa-enable',
      access: 'bearer',
      tags,
      summary: 'Administrators: turn MFA on for a user who has verified a device (409 when they have none)',
      pathParameters: database,
      requestBody: body(ref('EnableMFASetupRequest'), 'The user'),
      responses: stringAnswer([404, 409, 415]),
    },
    {
      operationId: 'DisableMFA',
      method: 'post',
      path: '/mfa-disable',
      access: 'bearer',
      tags,
      summary: 'Administrators: turn MFA off for a user and forget their device (a new setup is needed to turn it on again)',
      pathParameters: database,
      requestBody: body(ref('DisableMFASetupRequest'), 'The user'),
      responses: stringAnswer([404, 415]),
    },
    {
      operationId: 'SubmitMFACode',
      method: 'post',
      path: '/mfa-submit-code',
      access: 'key',
      tags: ['Authentication'],
      summary: 'Answer SOFTWARE_TOKEN_MFA: the device\'s current code and the challenge\'s session, for tokens',
      description:
        'A wrong code is a 401; the session stays usable for 5 tries in its 5-minute lifetime, and each wrong code counts as a failed login ' +
        'for the lockout. ' + REPLAY,
      parameters: [parameter('clientId'), parameter('clientCode'), parameter('database')],
      requestBody: body(ref('SubmitMFACodeRequest'), 'The user, the code and the challenge\'s session'),
      responses: responses('UserAuthenticationResponseVBAResponse', { 200: response(200, 'UserAuthenticationResponseVBAResponse') }, [415]),
    },
  ],
  ({ auth, mfa }) => deviceHandlers(auth, mfa),
);

type MfaOperationId = 'MFADeviceSetup' | 'VerifyMFADeviceSetup' | 'GetMFAStatus' | 'EnableMFA' | 'DisableMFA' | 'SubmitMFACode';

function deviceHandlers(services: AuthServices, devices: MfaDevices): Record<MfaOperationId, RouteHandlerMethod> {
  const directory = new UserDirectory(services.registry);

  const MFADeviceSetup: RouteHandlerMethod = async (request) => {
    requireOwnAccessToken(services.tokens, request, objectBody(request, 'MFADeviceSetupRequest'));
    const { clientId, username } = caller(request);
    const secretCode = await devices.startSetup(clientId, username);
    const { qrCode } = await enrolment(secretCode, `${username} (${clientId})`);
    return success(request.id, { qrCode, secretCode });
  };

  const VerifyMFADeviceSetup: RouteHandlerMethod = async (request) => {
    const body = objectBody(request, 'VerifyMFADeviceSetupRequest');
    const { friendlyDeviceName } = body;
    const errors: FieldError[] = [];
    const userCode = requiredText(body, 'userCode', errors, 'is required: the 6-digit code the device shows');
    if (friendlyDeviceName != null && (typeof friendlyDeviceName !== 'string' || friendlyDeviceName.length > DEVICE_NAME_MAX)) {
      errors.push({ field: 'friendlyDeviceName', message: `must be a string of at most ${DEVICE_NAME_MAX} characters` });
    }
    refuse(errors);
    requireOwnAccessToken(services.tokens, request, body);
    const { clientId, username } = caller(request);
    const name = typeof friendlyDeviceName === 'string' && friendlyDeviceName.trim() !== '' ? friendlyDeviceName.trim() : DEFAULT_DEVICE_NAME;
    const outcome = await devices.verifySetup(clientId, username, userCode, name);
    if (!outcome.ok) {
      const message =
        outcome.reason === 'no-setup' ? 'no device setup is pending: call /mfa-setup first'
        : outcome.triesLeft > 0 ? `is not the device's current code (${outcome.triesLeft} tries left for this setup)`
        : 'is not the device\'s current code; this setup is discarded: call /mfa-setup again';
      refuse([{ field: 'userCode', message }]);
    }
    return success(request.id, { status: 'SUCCESS' });
  };

  /** The administrator routes' target: a user of the caller's client granted this database (else 404). */
  const target = async (request: FastifyRequest, schemaName: string): Promise<string> => {
    const { clientId, username, database } = caller(request);
    if (!(await directory.isAdministrator(clientId, username))) throw forbidden('Only an administrator may turn MFA on or off for a user');
    const errors: FieldError[] = [];
    const userId = requiredText(objectBody(request, schemaName), 'user_ID', errors);
    refuse(errors);
    if (!(await directory.get({ clientId, database }, userId))) throw notFound(`No user "${userId}"`);
    return userId;
  };

  return {
    MFADeviceSetup,
    VerifyMFADeviceSetup,
    GetMFAStatus: async (request) => success(request.id, await devices.enabled(caller(request).clientId, caller(request).username)),
    EnableMFA: async (request) => {
      const userId = await target(request, 'EnableMFASetupRequest');
      if (!(await devices.enable(caller(request).clientId, userId))) {
        throw new ApiError(409, `User "${userId}" has no verified MFA device: they must run /mfa-setup and /mfa-verify-setup first`);
      }
      return success(request.id, `MFA is enabled for user ${userId}`);
    },
    DisableMFA: async (request) => {
      const userId = await target(request, 'DisableMFASetupRequest');
      await devices.disable(caller(request).clientId, userId);
      return success(request.id, `MFA is disabled for user ${userId}; their device is forgotten`);
    },
    SubmitMFACode: submitCode(services, devices),
  };
}

/**
 * A wrong (or replayed) code is a 401 and costs one of the challenge's tries and counts as a failed
 * login for the lockout, so guessing codes is bounded by both.
 */
function submitCode(services: AuthServices, devices: MfaDevices): RouteHandlerMethod {
  return async (request) => {
    const { clientId, database } = await keyOnly(request, services);
    const body = objectBody(request, 'SubmitMFACodeRequest');
    const errors: FieldError[] = [];
    const username = requiredText(body, 'username', errors);
    const mfaCode = requiredText(body, 'mfaCode', errors);
    const session = requiredText(body, 'session', errors);
    refuse(errors);

    const challenge = await findChallenge(services.registry, session, 'SOFTWARE_TOKEN_MFA');
    if (!challenge || challenge.clientId !== clientId || challenge.username !== username || challenge.database !== database) throw unauthorized();
    if (await services.lockout.isLocked(clientId, challenge.username)) throw unauthorized();
    const outcome = await devices.checkCode(clientId, challenge.username, mfaCode);
    if (outcome !== 'ok') {
      await recordFailedTry(services.registry, session);
      await services.lockout.recordFailure(clientId, challenge.username);
      if (outcome === 'replayed') request.log.info({ clientId }, 'an MFA code was presented again: refused');
      throw unauthorized();
    }
    if (!(await consumeChallenge(services.registry, session, 'SOFTWARE_TOKEN_MFA'))) throw unauthorized();
    await services.lockout.clear(clientId, challenge.username);
    return success(request.id, { challengeName: null, session: null, authenticationResult: await issueSession(services, challenge) });
  };
}

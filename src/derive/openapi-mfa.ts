import { NOT_IMPLEMENTED_ROUTES } from '../auth/not-implemented.js';
import { DEVICE_NAME_MAX } from '../entities/user.js';
import type { JsonSchema } from './json-schema.js';

/**
 * The OpenAPI part of contract 6.4 (multi-factor authentication), `POST /mfa-submit-code` (6.3)
 * and the routes 6.5 answers with 501, under the vendor's names. openapi.ts merges these paths and
 * schemas into the document and lends its helpers (the kit), so responses read like every other route's.
 */
export interface OpenApiKit {
  ref(name: string): JsonSchema;
  parameter(name: string): object;
  response(status: number, envelope: string | null): { description: string } & Record<string, unknown>;
  responses(envelope: string, own: Record<number, object>, extra: number[]): Record<string, unknown>;
  body(schema: object, description: string): object;
  envelope(data: JsonSchema): JsonSchema;
  nullable(schema: JsonSchema): JsonSchema;
}

export const MFA_TAG = { name: 'MultiFactorAuth', description: 'TOTP devices (RFC 6238: SHA-1, 6 digits, 30 s): set up, verify, status; administrators turn MFA on or off per user' };

const REPLAY =
  'A code is accepted once: a code of the same or an earlier 30-second step than the last one accepted for the user is refused (RFC 6238 section 5.2).';

export function mfaPaths(kit: OpenApiKit): Record<string, Record<string, unknown>> {
  const { ref, parameter, response, responses, body } = kit;
  const tags = ['MultiFactorAuth'];
  const bearer = (operationId: string, summary: string, envelope: string, extra: number[], requestBody?: object, description?: string) => ({
    parameters: [parameter('database')],
    post: {
      operationId,
      tags,
      summary,
      ...(description ? { description } : {}),
      ...(requestBody ? { requestBody } : {}),
      responses: responses(envelope, { 200: response(200, envelope) }, extra),
    },
  });
  const notImplemented = (route: string) => ({
    ...(route.includes('{userID}')
      ? { parameters: [{ name: 'userID', in: 'path', required: true, description: 'user_ID', schema: { type: 'string', minLength: 1 } }] }
      : {}),
    post: {
      operationId: `NotImplemented${route.replace(/\{userID\}/, '').split(/[^a-z]+/i).map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('')}`,
      tags: [route.includes('mfa') ? 'MultiFactorAuth' : route.startsWith('/users') ? 'User' : 'Authentication'],
      summary: 'Not implemented here (501): the vendor delivers these codes by e-mail through its own service',
      description: 'Answers 501 in the envelope whatever the request carries; `error.detail` names the route and says what to use instead.',
      security: [],
      responses: {
        400: response(400, 'StringVBAResponse'),
        501: { ...response(501, 'StringVBAResponse'), description: 'Not Implemented: this server sends no e-mail' },
      },
    },
  });

  return {
    '/mfa-setup': bearer(
      'MFADeviceSetup',
      'Start setting up your TOTP device: a new secret (`secretCode`, base32) and its QR code (`qrCode`, a PNG data URL of the otpauth:// URI)',
      'MFADeviceSetupResponseVBAResponse',
      [415],
      body(ref('MFADeviceSetupRequest'), 'Your access token (optional; when given it must be yours)'),
      'Scan the QR code (or type the secret) into an authenticator app, then send its current code to /mfa-verify-setup. ' +
        'A device already verified keeps working until the new one is verified. The secret is shown this once and stored encrypted.',
    ),
    '/mfa-verify-setup': bearer(
      'VerifyMFADeviceSetup',
      'Finish the setup with the device\'s current code: MFA is then on (`mfA_Enabled` true, `mfA_Device_Name` the name given)',
      'VerifyMFADeviceSetupResponseVBAResponse',
      [415],
      body(ref('VerifyMFADeviceSetupRequest'), 'The code the device shows, and a name for it'),
      'A wrong code is a 400 (`error.errors` names `userCode`); after 5 wrong codes the setup is discarded and /mfa-setup starts over. ' + REPLAY,
    ),
    '/mfa-status': {
      parameters: [parameter('database')],
      get: {
        operationId: 'GetMFAStatus',
        tags,
        summary: 'Whether MFA is on for you (your `mfA_Enabled`)',
        responses: responses('BooleanVBAResponse', { 200: response(200, 'BooleanVBAResponse') }, []),
      },
    },
    '/mfa-enable': bearer(
      'EnableMFA',
      'Administrators: turn MFA on for a user who has verified a device (409 when they have none)',
      'StringVBAResponse',
      [404, 409, 415],
      body(ref('EnableMFASetupRequest'), 'The user'),
    ),
    '/mfa-disable': bearer(
      'DisableMFA',
      'Administrators: turn MFA off for a user and forget their device (a new setup is needed to turn it on again)',
      'StringVBAResponse',
      [404, 415],
      body(ref('DisableMFASetupRequest'), 'The user'),
    ),
    '/mfa-submit-code': {
      post: {
        operationId: 'SubmitMFACode',
        tags: ['Authentication'],
        summary: 'Answer SOFTWARE_TOKEN_MFA: the device\'s current code and the challenge\'s session, for tokens',
        description:
          'A wrong code is a 401; the session stays usable for 5 tries in its 5-minute lifetime, and each wrong code counts as a failed login ' +
          'for the lockout. ' + REPLAY,
        security: [{ apiKeyAuth: [] }],
        parameters: [parameter('clientId'), parameter('clientCode'), parameter('database')],
        requestBody: body(ref('SubmitMFACodeRequest'), 'The user, the code and the challenge\'s session'),
        responses: responses('UserAuthenticationResponseVBAResponse', { 200: response(200, 'UserAuthenticationResponseVBAResponse') }, [415]),
      },
    },
    ...Object.fromEntries(NOT_IMPLEMENTED_ROUTES.map((route) => [route, notImplemented(route)])),
  };
}

export function mfaSchemas(kit: OpenApiKit): Record<string, JsonSchema> {
  const { ref, envelope, nullable } = kit;
  const text = (description: string): JsonSchema => ({ type: 'string', description });
  const accessToken: JsonSchema = { type: ['string', 'null'], description: 'Your access token (optional; when given it must be yours)' };
  const object = (properties: Record<string, JsonSchema>, required: string[]): JsonSchema => ({
    type: 'object',
    properties,
    required,
    additionalProperties: false,
  });
  return {
    SubmitMFACodeRequest: object(
      {
        username: text('The user answering the challenge'),
        mfaCode: text('The 6-digit code the device shows'),
        session: text('The `session` of the SOFTWARE_TOKEN_MFA challenge'),
      },
      ['username', 'mfaCode', 'session'],
    ),
    MFADeviceSetupRequest: object({ accessToken }, []),
    MFADeviceSetupResponse: object(
      {
        qrCode: { type: 'string', description: 'A `data:image/png;base64,…` QR code of the `otpauth://totp/…` URI' },
        secretCode: { type: 'string', description: 'The secret, base32 (for typing into an authenticator app); shown this once' },
      },
      ['qrCode', 'secretCode'],
    ),
    MFADeviceSetupResponseVBAResponse: envelope(nullable(ref('MFADeviceSetupResponse'))),
    VerifyMFADeviceSetupRequest: object(
      {
        friendlyDeviceName: { type: ['string', 'null'], maxLength: DEVICE_NAME_MAX, description: 'A name for the device (becomes `mfA_Device_Name`)' },
        accessToken,
        userCode: text('The 6-digit code the device shows now'),
      },
      ['userCode'],
    ),
    VerifyMFADeviceSetupResponse: object({ status: { type: 'string', description: '`SUCCESS`' } }, ['status']),
    VerifyMFADeviceSetupResponseVBAResponse: envelope(nullable(ref('VerifyMFADeviceSetupResponse'))),
    EnableMFASetupRequest: object({ user_ID: text('The user to turn MFA on for') }, ['user_ID']),
    DisableMFASetupRequest: object({ user_ID: text('The user to turn MFA off for') }, ['user_ID']),
    BooleanVBAResponse: envelope({ type: ['boolean', 'null'] }),
  };
}

import { DEVICE_NAME_MAX } from '../entities/user.js';
import { closedObject, OWN_ACCESS_TOKEN, text, type JsonSchema } from './json-schema.js';

/**
 * The component schemas of contract 6.4 (multi-factor authentication) and `POST /mfa-submit-code`
 * (6.3), under the vendor's names; the operations are in auth/mfa-routes.ts. openapi.ts lends its
 * schema helpers, so these read like every other component.
 */
export interface SchemaKit {
  ref(name: string): JsonSchema;
  envelope(data: JsonSchema): unknown;
  nullable(schema: JsonSchema): JsonSchema;
}

export const MFA_TAG = { name: 'MultiFactorAuth', description: 'TOTP devices (RFC 6238: SHA-1, 6 digits, 30 s): set up, verify, status; administrators turn MFA on or off per user' };

export function mfaSchemas(kit: SchemaKit): Record<string, unknown> {
  const { ref, envelope, nullable } = kit;
  const object = closedObject;
  const accessToken = OWN_ACCESS_TOKEN;
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

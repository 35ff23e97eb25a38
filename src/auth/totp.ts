import { Secret, TOTP } from 'otpauth';
import { toDataURL } from 'qrcode';

/**
 * TOTP as contract 6.4 fixes it (RFC 6238: SHA-1, 6 digits, 30-second steps, one step either side
 * accepted for clock drift), by `otpauth`; the QR code of the `otpauth://` URI by `qrcode`.
 */
const RULES = { algorithm: 'SHA1', digits: 6, period: 30 } as const;
const TOTP_WINDOW = 1;
const TOTP_ISSUER = 'VBAPI';
const CODE_PATTERN = /^\d{6}$/;

/** A new random secret (160 bits, RFC 4226's recommended length), base32 as authenticator apps take it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://totp/…` URI and its QR code as a `data:image/png;base64,…` URL. */
export async function enrolment(secretBase32: string, account: string): Promise<{ uri: string; qrCode: string }> {
  const uri = totp(secretBase32, account).toString();
  return { uri, qrCode: await toDataURL(uri, { type: 'image/png', errorCorrectionLevel: 'M' }) };
}

/**
 * The time step (30-second counter) a code belongs to, when it is right for this secret within the
 * window at `now`; null otherwise. Callers use the step to refuse a code seen before (replay).
 */
export function matchingStep(secretBase32: string, code: string, now = Date.now()): number | null {
  if (!CODE_PATTERN.test(code)) return null;
  const generator = totp(secretBase32, '');
  const delta = generator.validate({ token: code, timestamp: now, window: TOTP_WINDOW });
  return delta === null ? null : generator.counter({ timestamp: now }) + delta;
}

function totp(secretBase32: string, account: string): TOTP {
  return new TOTP({ ...RULES, issuer: TOTP_ISSUER, label: account, secret: Secret.fromBase32(secretBase32) });
}

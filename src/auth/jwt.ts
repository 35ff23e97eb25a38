import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeJwt, type JWTPayload } from 'jose';

/**
 * HS256 verification, synchronous on purpose. jose verifies through WebCrypto, whose jobs run in
 * libuv's thread pool, where they queue behind password hashes (scrypt, ~70 ms each): during a
 * login flood an API call with a new token waited seconds. An HMAC over a few hundred bytes is a
 * few microseconds on the calling thread. jose still signs tokens and parses the claims.
 */
export interface Hs256Rules {
  readonly issuer: string;
  readonly audience: string;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * A segment is canonical when it is the exact base64url text of its bytes: no padding, no other
 * alphabet, and the unused low bits of its last character zero. Anything else decodes to the same
 * bytes under another spelling (`<token>=`, a last character one off), which would let a token
 * slip past anything keyed on its text, such as a revocation list.
 */
function canonical(segment: string): Buffer | null {
  if (!SEGMENT.test(segment)) return null;
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.toString('base64url') === segment ? bytes : null;
}

/** The token's claims when it is a canonical HS256 JWT signed with `secret` and its rules hold now; else null. */
export function verifyHs256(token: string, secret: Uint8Array, rules: Hs256Rules, nowSeconds = Date.now() / 1000): JWTPayload | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [headerText, payloadText, signatureText] = parts as [string, string, string];
  const header = canonical(headerText);
  const signature = canonical(signatureText);
  if (!header || !signature || !canonical(payloadText)) return null;

  const expected = createHmac('sha256', secret).update(`${headerText}.${payloadText}`).digest();
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null;

  // Only after the signature holds: the header pins the algorithm (no `none`, no others, no `crit`).
  let protectedHeader: unknown;
  try {
    protectedHeader = JSON.parse(header.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(protectedHeader) || protectedHeader.alg !== 'HS256' || 'crit' in protectedHeader || 'b64' in protectedHeader) return null;

  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch {
    return null;
  }
  const { iss, aud, exp, nbf, iat } = claims;
  if (iss !== rules.issuer) return null;
  if (!(aud === rules.audience || (Array.isArray(aud) && aud.includes(rules.audience)))) return null;
  if (typeof exp !== 'number' || exp <= nowSeconds) return null;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowSeconds)) return null;
  if (iat !== undefined && typeof iat !== 'number') return null;
  return claims;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

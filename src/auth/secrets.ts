import { hash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * API keys are 32 random bytes: far too much entropy to guess, so a fast hash (SHA-256) is the
 * right way to keep them, and it lets a request find its key with one indexed lookup.
 * Passwords are chosen by people, so they get a slow, salted, memory-hard hash (scrypt).
 */
export const API_KEY_PREFIX_LENGTH = 12;

export function newApiKey(): string {
  return `vba_${randomBytes(32).toString('base64url')}`;
}

/** Every request with a key hashes it to find its owner: the one-shot hash, without a Hash object each time. */
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

export function randomId(bytes = 4): string {
  return randomBytes(bytes).toString('hex');
}

/** A password for generated accounts: 18 random bytes, URL- and shell-safe. */
export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

const SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 128 * params.N * params.r * 2 };
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash`, so the cost can be raised later without invalidating stored hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

/** A hash of nothing, checked when the user does not exist, so both failures take the same time. */
const decoy = hashPassword(newPassword());

export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = (stored ?? (await decoy)).split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(N), r: Number(r), p: Number(p) });
  return timingSafeEqual(actual, expected) && stored !== undefined;
}

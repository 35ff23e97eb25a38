import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SecretBox } from '../src/auth/mfa-secrets.js';
import { enrolment, matchingStep, newTotpSecret } from '../src/auth/totp.js';
import { ConfigError, loadConfig } from '../src/config.js';
import type { Database } from '../src/store/database.js';

/** SecretBox.load never touches the registry when a key is configured. */
const noRegistry = null as unknown as Database;
const box = (key: Buffer) => SecretBox.load(noRegistry, key);

test('MFA secrets: AES-256-GCM sealed, bound to their owner, tamper-evident, and a changed key is named', async () => {
  const key = randomBytes(32);
  const sealed = (await box(key)).seal('JBSWY3DPEHPK3PXP', ['client', 'alice']);
  assert.match(sealed, /^v1\.[\w-]{8}\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
  assert.ok(!sealed.includes('JBSWY3DPEHPK3PXP'));
  assert.notEqual((await box(key)).seal('JBSWY3DPEHPK3PXP', ['client', 'alice']), sealed, 'a fresh IV each time');
  assert.equal((await box(key)).open(sealed, ['client', 'alice']), 'JBSWY3DPEHPK3PXP');

  await assert.rejects(async () => (await box(key)).open(sealed, ['client', 'bob']), /unable to authenticate|auth/i, 'another owner');
  await assert.rejects(async () => (await box(key)).open(sealed, ['client:alice']), /unable to authenticate|auth/i, 'owner parts are not concatenated');
  const parts = sealed.split('.');
  const flipped = Buffer.from(parts[4]!, 'base64url');
  flipped[0]! ^= 1;
  parts[4] = flipped.toString('base64url');
  await assert.rejects(async () => (await box(key)).open(parts.join('.'), ['client', 'alice']), /unable to authenticate|auth/i, 'tampered');
  await assert.rejects(async () => (await box(randomBytes(32))).open(sealed, ['client', 'alice']), /VBAPI_SECRET_KEY/, 'another key');
  await assert.rejects(async () => (await box(key)).open('plain', ['client', 'alice']), /unknown format/);
});

test('TOTP: RFC 6238 SHA-1 vectors (6 digits), ±1 step, the matched step reported', () => {
  // RFC 6238 appendix B, SHA-1 seed "12345678901234567890"; the 8-digit values' last 6 digits.
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  assert.equal(matchingStep(secret, '287082', 59_000), 1);
  assert.equal(matchingStep(secret, '081804', 1_111_111_109_000), 37_037_036);
  assert.equal(matchingStep(secret, '050471', 1_111_111_111_000), 37_037_037);
  assert.equal(matchingStep(secret, '081804', 1_111_111_111_000), 37_037_036, 'one step back is accepted');
  assert.equal(matchingStep(secret, '081804', 1_111_111_111_000 + 30_000), null, 'two steps back is not');
  assert.equal(matchingStep(secret, '8180', 1_111_111_109_000), null);
  assert.equal(matchingStep(secret, '0818044', 1_111_111_109_000), null);
  assert.match(newTotpSecret(), /^[A-Z2-7]{32}$/);
  assert.notEqual(newTotpSecret(), newTotpSecret());
});

test('TOTP: the otpauth:// URI names the issuer and account and says SHA1/6/30; the QR code is a PNG data URL', async () => {
  const { uri, qrCode } = await enrolment('JBSWY3DPEHPK3PXP', 'alice (acme)');
  assert.ok(uri.startsWith('otpauth://totp/VBAPI:alice%20(acme)?'), uri);
  const url = new URL(uri);
  assert.deepEqual(Object.fromEntries(url.searchParams), { issuer: 'VBAPI', secret: 'JBSWY3DPEHPK3PXP', algorithm: 'SHA1', digits: '6', period: '30' });
  assert.match(qrCode, /^data:image\/png;base64,iVBORw0KGgo/);
});

test('VBAPI_SECRET_KEY: 32 bytes as hex or base64; anything else refused at start', () => {
  const key = randomBytes(32);
  assert.equal(loadConfig({}).secretKey, undefined);
  assert.deepEqual(loadConfig({ VBAPI_SECRET_KEY: key.toString('hex') }).secretKey, key);
  assert.deepEqual(loadConfig({ VBAPI_SECRET_KEY: key.toString('base64') }).secretKey, key);
  assert.deepEqual(loadConfig({ VBAPI_SECRET_KEY: key.toString('base64url') }).secretKey, key);
  for (const bad of ['short', randomBytes(16).toString('hex'), randomBytes(33).toString('base64'), 'x'.repeat(64)]) {
    assert.throws(() => loadConfig({ VBAPI_SECRET_KEY: bad }), ConfigError, bad);
  }
});

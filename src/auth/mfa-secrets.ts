import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Database } from '../store/database.js';

/**
 * TOTP secrets are encrypted at rest with AES-256-GCM (authenticated: a changed byte fails to
 * decrypt rather than yielding another secret). The key comes from `VBAPI_SECRET_KEY`, or is
 * generated once and kept in the registry, as the JWT key is. Configuring it is the stronger
 * choice: then a copy of the registry alone does not reveal the secrets.
 *
 * Stored text: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url). The key id (a hash prefix of the
 * key) turns "the key was changed" into a clear error instead of a failed authentication tag. The
 * owner (client and user) is the associated data, so a ciphertext copied onto another user's row
 * does not decrypt there.
 */
export class SecretBox {
  private readonly keyId: string;

  private constructor(private readonly key: Buffer) {
    this.keyId = createHash('sha256').update(key).digest('base64url').slice(0, 8);
  }

  static async load(registry: Database, configured: Buffer | undefined): Promise<SecretBox> {
    if (configured) return new SecretBox(configured);
    await registry.query(`INSERT INTO settings (name, value) VALUES ('mfa_secret_key', $1) ON CONFLICT (name) DO NOTHING`, [
      randomBytes(32).toString('base64url'),
    ]);
    const [row] = await registry.query<{ value: string }>(`SELECT value FROM settings WHERE name = 'mfa_secret_key'`);
    return new SecretBox(Buffer.from(row!.value, 'base64url'));
  }

  seal(plaintext: string, owner: readonly string[]): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(associatedData(owner));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', this.keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  open(sealed: string, owner: readonly string[]): string {
    const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) throw new Error('an MFA secret is stored in an unknown format');
    if (keyId !== this.keyId) throw new Error('an MFA secret was encrypted with another key: was VBAPI_SECRET_KEY changed?');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(associatedData(owner));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** Unambiguous whatever the names contain. */
const associatedData = (owner: readonly string[]) => Buffer.from(JSON.stringify(owner), 'utf8');

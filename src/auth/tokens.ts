import { randomBytes } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import type { Database } from '../store/database.js';
import { TtlCache } from './cache.js';
import { verifyHs256 } from './jwt.js';

/** What a bearer token proves: who logged in, for which client, to use which database. */
export interface Identity {
  readonly username: string;
  readonly clientId: string;
  readonly database: string;
  /** The login session the token belongs to (`sid`): logout, kick, disable… revoke it. */
  readonly sessionId?: string;
}

const ALGORITHM = 'HS256'; // pinned: tokens signed any other way (or `alg: none`) are refused
const ISSUER = 'vbapi-server';
const AUDIENCE = 'vbapi';
/** id and access tokens are bearer tokens; a refresh token is not (the contract has no refresh call). */
type TokenUse = 'id' | 'access' | 'refresh';

export class Tokens {
  /** Tokens already verified, until their expiry (at most a minute): a check costs a few µs, the cache saves the JSON parsing. */
  private readonly verified = new TtlCache<Identity>(60_000);

  private constructor(
    private readonly secret: Uint8Array,
    readonly lifetimeSeconds: number,
  ) {}

  /**
   * The signing key comes from configuration, or is generated once and kept in the registry, so
   * restarts (and every instance sharing the registry) accept the same tokens.
   */
  static async load(registry: Database, configured: string | undefined, lifetimeSeconds: number): Promise<Tokens> {
    if (configured) return new Tokens(new TextEncoder().encode(configured), lifetimeSeconds);
    await registry.query(`INSERT INTO settings (name, value) VALUES ('jwt_secret', $1) ON CONFLICT (name) DO NOTHING`, [
      randomBytes(32).toString('base64url'),
    ]);
    const [row] = await registry.query<{ value: string }>(`SELECT value FROM settings WHERE name = 'jwt_secret'`);
    return new Tokens(Buffer.from(row!.value, 'base64url'), lifetimeSeconds);
  }

  issue(identity: Identity, use: TokenUse): Promise<string> {
    const session = identity.sessionId ? { sid: identity.sessionId } : {};
    return new SignJWT({ client: identity.clientId, database: identity.database, token_use: use, ...session })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(identity.username)
      .setIssuedAt()
      // Unique even when minted in the same second for the same session (a refresh right after login).
      .setJti(randomBytes(12).toString('base64url'))
      .setExpirationTime(`${use === 'refresh' ? this.lifetimeSeconds * 7 : this.lifetimeSeconds}s`)
      .sign(this.secret);
  }

  /** The identity a bearer token proves, or null for anything expired, tampered, foreign, malformed or non-canonical. */
  verify(token: string): Identity | null {
    const known = this.verified.get(token);
    if (known) return known;
    const payload = verifyHs256(token, this.secret, { issuer: ISSUER, audience: AUDIENCE });
    if (!payload) return null;
    const identity = identityOf(payload);
    // verifyHs256 accepts only tokens with an `exp` (still to come): the cache keeps the identity until then.
    if (identity && payload.exp !== undefined) this.verified.set(token, identity, payload.exp * 1000);
    return identity;
  }

  /**
   * The identity of an id token that is genuine but may have expired (`expired-id-token` of a
   * refresh): everything is checked but the expiry.
   */
  verifyIgnoringExpiry(token: string): Identity | null {
    const payload = verifyHs256(token, this.secret, { issuer: ISSUER, audience: AUDIENCE }, 0);
    return payload ? identityOf(payload) : null;
  }
}

function identityOf(payload: JWTPayload): Identity | null {
  const { sub, client, database, token_use: use, sid } = payload;
  if (typeof sub !== 'string' || typeof client !== 'string' || typeof database !== 'string') return null;
  if (use !== 'id' && use !== 'access') return null;
  return { username: sub, clientId: client, database, ...(typeof sid === 'string' ? { sessionId: sid } : {}) };
}

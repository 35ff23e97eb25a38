import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Database } from '../store/database.js';
import { TtlCache } from './cache.js';
import { verifyHs256 } from './jwt.js';

/** What a bearer token proves: who logged in, for which client, to use which database. */
export interface Identity {
  readonly username: string;
  readonly clientId: string;
  readonly database: string;
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
    return new SignJWT({ client: identity.clientId, database: identity.database, token_use: use })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(identity.username)
      .setIssuedAt()
      .setExpirationTime(`${use === 'refresh' ? this.lifetimeSeconds * 7 : this.lifetimeSeconds}s`)
      .sign(this.secret);
  }

  /** The identity a bearer token proves, or null for anything expired, tampered, foreign, malformed or non-canonical. */
  verify(token: string): Identity | null {
    const known = this.verified.get(token);
    if (known) return known;
    const payload = verifyHs256(token, this.secret, { issuer: ISSUER, audience: AUDIENCE });
    if (!payload) return null;
    const { sub, client, database, token_use: use, exp } = payload;
    if (typeof sub !== 'string' || typeof client !== 'string' || typeof database !== 'string') return null;
    if (use !== 'id' && use !== 'access') return null;
    const identity = { username: sub, clientId: client, database };
    this.verified.set(token, identity, exp! * 1000);
    return identity;
  }
}

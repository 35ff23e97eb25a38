import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../store/database.js';
import type { Tokens } from './tokens.js';
import type { Sessions } from './sessions.js';
import type { AuthenticationResult } from '../derive/shapes.js';

/**
 * Login challenges (contract 6.3): when a password alone is not enough, login answers a challenge
 * and an opaque `session` value instead of tokens. The value is single-use, lives 5 minutes and is
 * kept only as a hash; an MFA challenge tolerates MAX_TRIES wrong codes in its lifetime.
 */
export type ChallengeKind = 'NEW_PASSWORD_REQUIRED' | 'SOFTWARE_TOKEN_MFA';

export interface ChallengeSubject {
  readonly clientId: string;
  readonly username: string;
  readonly database: string;
}

const CHALLENGE_SECONDS = 300;
const MAX_TRIES = 5;

const hash = (session: string) => createHash('sha256').update(session).digest('hex');

/** A new challenge; returns its `session` value (the only time it exists outside its hash). */
export async function createChallenge(registry: Database, challenge: ChallengeSubject & { kind: ChallengeKind }): Promise<string> {
  const session = randomBytes(32).toString('base64url');
  // Expired challenges are swept here, so the table holds at most five minutes of logins.
  await registry.query('DELETE FROM challenges WHERE expires_at <= now()');
  await registry.query(
    `INSERT INTO challenges (hash, client_id, username, database, kind, expires_at)
     VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 second')`,
    [hash(session), challenge.clientId, challenge.username, challenge.database, challenge.kind, CHALLENGE_SECONDS],
  );
  return session;
}

/** The live challenge of this kind behind `session`, without using it up (e.g. to check an MFA code first). */
export async function findChallenge(registry: Database, session: string, kind: ChallengeKind): Promise<ChallengeSubject | null> {
  if (typeof session !== 'string' || session === '') return null;
  const [row] = await registry.query<ChallengeSubject>(
    `SELECT client_id AS "clientId", username, database FROM challenges
     WHERE hash = $1 AND kind = $2 AND expires_at > now() AND tries < $3`,
    [hash(session), kind, MAX_TRIES],
  );
  return row ?? null;
}

/** Uses the challenge up: its subject the first time, null ever after (or when expired, exhausted, of another kind). */
export async function consumeChallenge(registry: Database, session: string, kind: ChallengeKind): Promise<ChallengeSubject | null> {
  if (typeof session !== 'string' || session === '') return null;
  const [row] = await registry.query<ChallengeSubject>(
    `DELETE FROM challenges WHERE hash = $1 AND kind = $2 AND expires_at > now() AND tries < $3
     RETURNING client_id AS "clientId", username, database`,
    [hash(session), kind, MAX_TRIES],
  );
  return row ?? null;
}

/** Counts a wrong answer (an MFA code); returns the tries left (0: the challenge is spent). */
export async function recordFailedTry(registry: Database, session: string): Promise<number> {
  const [row] = await registry.query<{ tries: number }>('UPDATE challenges SET tries = tries + 1 WHERE hash = $1 RETURNING tries', [hash(session)]);
  return row ? Math.max(0, MAX_TRIES - row.tries) : 0;
}

export type { AuthenticationResult } from '../derive/shapes.js';

/** Ends a login: a new server-side session and its tokens (id and access carry the session id; the refresh token is opaque). */
export async function issueSession(
  services: { readonly tokens: Tokens; readonly sessions: Sessions },
  subject: ChallengeSubject,
): Promise<AuthenticationResult> {
  const { sessionId, refreshToken } = await services.sessions.create(subject);
  return sessionTokens(services.tokens, { ...subject, sessionId }, refreshToken);
}

/** A session's id and access tokens (both carry its id) beside its current refresh token: what a login or a refresh answers. */
export async function sessionTokens(tokens: Tokens, identity: ChallengeSubject & { readonly sessionId: string }, refreshToken: string): Promise<AuthenticationResult> {
  const [idToken, accessToken] = await Promise.all([tokens.issue(identity, 'id'), tokens.issue(identity, 'access')]);
  return { accessToken, idToken, refreshToken, expiresIn: tokens.lifetimeSeconds };
}

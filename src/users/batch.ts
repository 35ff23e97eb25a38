import type { FastifyBaseLogger } from 'fastify';
import type { AuthServices } from '../auth/guard.js';
import { passwordProblem } from '../auth/password-policy.js';
import { hashPassword } from '../auth/secrets.js';
import { describeErrors, type Row, type Validation } from '../derive/validate.js';
import type { ClientRecord } from '../entities/index.js';
import type { user } from '../entities/user.js';
import { rolledBackByFault, type BatchOutcome } from '../resources/batch.js';
import { classify, RolledBack, withRetry } from '../store/errors.js';
import type { Scope, UserDirectory } from './directory.js';
import { newUserProblems } from './rules.js';

export interface UserBatchContext {
  readonly validate: (input: unknown) => Validation<ClientRecord<typeof user>>;
  readonly directory: UserDirectory;
  readonly services: AuthServices;
  readonly scope: Scope;
  readonly by: string;
  readonly activityID: string;
  readonly log: FastifyBaseLogger;
}

interface Candidate {
  readonly index: number;
  readonly key: string;
  readonly row: Row & ClientRecord<typeof user>;
  readonly passwordHash: string | null;
}

/**
 * `PUT /users-batch` with the rules of contract 2.1: one answer per record in input order, invalid
 * records never block valid ones, a key sent several times is applied one occurrence after
 * another, and every 200/201 is committed in one transaction before the answer. Users are few and
 * each may carry a password to hash, so records are written one statement each, not set-based.
 */
export async function upsertUsers(records: readonly unknown[], context: UserBatchContext): Promise<BatchOutcome[]> {
  const { scope, directory, services } = context;
  const results: BatchOutcome[] = new Array(records.length);
  const outcome = (value: string | null, status: number, body: string): BatchOutcome => ({ id: [{ key: 'user_ID', value }], status, body });
  const candidates: Candidate[] = [];
  for (const [index, record] of records.entries()) {
    const checked = context.validate(record);
    if (!checked.ok) {
      const key = (record as Record<string, unknown> | null)?.user_ID;
      results[index] = outcome(typeof key === 'string' ? key : null, 400, describeErrors(checked.errors));
      continue;
    }
    const key = checked.row.user_ID;
    const password = checked.row.password;
    const weak = password == null ? null : passwordProblem(key, password);
    if (weak) {
      results[index] = outcome(key, 400, `password: ${weak}`);
      continue;
    }
    // Hashed before the transaction (and through the login hash queue): scrypt must not hold a transaction open.
    const passwordHash = password == null ? null : await services.logins.hash(scope.clientId, () => hashPassword(password));
    candidates.push({ index, key, row: checked.row, passwordHash });
  }
  if (candidates.length === 0) return results;

  let decided: Map<number, BatchOutcome>;
  try {
    decided = await withRetry(() =>
      services.registry.transaction(async (tx) => {
        const answers = new Map<number, BatchOutcome>();
        const changedPasswords = new Set<string>();
        for (const candidate of candidates) {
          const { key, row, passwordHash } = candidate;
          if (await directory.replace(tx, scope, row, passwordHash, context.by)) {
            if (passwordHash !== null) changedPasswords.add(key);
            answers.set(candidate.index, outcome(key, 200, 'Updated'));
            continue;
          }
          const problems = newUserProblems(row);
          if (problems.length) {
            answers.set(candidate.index, outcome(key, 400, describeErrors(problems)));
          } else if (await directory.insert(tx, scope, row, passwordHash!, context.by)) {
            answers.set(candidate.index, outcome(key, 201, 'Created'));
          } else {
            // The client has this user, but not in this database: not this caller's to change.
            answers.set(candidate.index, outcome(key, 409, `user_ID: user "${key}" exists but is not granted this database`));
          }
        }
        for (const key of changedPasswords) await services.sessions.revokeUser(scope.clientId, key, 'password set by an administrator', tx);
        return answers;
      }),
    );
  } catch (error) {
    // The app answers 503 for it (and says nothing was applied); the other faults become per-record 500s below.
    if (classify(error) === 'unavailable') throw new RolledBack(error);
    context.log.error({ err: error, entity: 'user' }, 'users batch transaction failed');
    for (const candidate of candidates) {
      results[candidate.index] = outcome(candidate.key, 500, rolledBackByFault(context.activityID));
    }
    return results;
  }
  for (const [index, answer] of decided) results[index] = answer;
  return results;
}

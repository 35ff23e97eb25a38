import { ident, type SortKey } from '../derive/sql.js';
import type { Row } from '../derive/validate.js';
import { user, USER_PROFILE_FIELDS } from '../entities/user.js';
import { toRecord, type ApiRecord } from '../resources/records.js';
import type { Database, Queryable } from '../store/database.js';

/**
 * The `Users` records of the registry, as one client sees them in one database (contract 6.1's
 * scope): a user of another client, or not granted the request's database, does not exist here.
 * Every statement is built from the record's field list (allow-listed names); values are parameters.
 */
export interface Scope {
  readonly clientId: string;
  readonly database: string;
}

// MFA state lives in `user_mfa` (registry migration 0004): no row reads false/null.
const MFA_JOIN = 'LEFT JOIN user_mfa m ON m.client_id = u.client_id AND m.username = u.username';
const MFA_COLUMNS = 'COALESCE(m.enabled AND m.secret IS NOT NULL, false) AS "mfA_Enabled", m.device_name AS "mfA_Device_Name"';

const profileColumns = USER_PROFILE_FIELDS.map((field) => ident(field.name));

/** Users granted database $2 of client $1, under their vendor field names. */
const VISIBLE = `(
  SELECT u.username AS "user_ID",
    COALESCE(f.locked_until > now(), false) AS "account_Locked",
    ${profileColumns.map((column) => `u.${column}`).join(', ')},
    u.created_at AS "entry_Date", u."entry_User", u."update_Date", u."update_User",
    NULL::text AS "login_Machine", NULL::integer AS "login_Status", NULL::timestamptz AS "password_Expiration",
    NULL::text AS "password", u.password_temporary AS "vbA_Password_Reset",
    ${MFA_COLUMNS}
  FROM users u
  LEFT JOIN login_failures f ON f.client_id = u.client_id AND f.username = u.username
  ${MFA_JOIN}
  WHERE u.client_id = $1 AND ${granted('u')}
) v`;

function granted(alias: string): string {
  return `EXISTS (SELECT 1 FROM user_databases g JOIN databases d ON d.id = g.database_id
    WHERE g.client_id = ${alias}.client_id AND g.username = ${alias}.username AND d.name = $2)`;
}

/** `$first, $first+1, …` for the profile columns. */
const placeholders = (first: number) => profileColumns.map((_, index) => `$${first + index}`);
const profileValues = (row: Row) => USER_PROFILE_FIELDS.map((field) => row[field.name] ?? null);

/** The operator's scope (`database: null`): every user of the client, whatever they are granted. */
export interface OperatorScope {
  readonly clientId: string;
  readonly database: string | null;
}

/** A user as `vbapi user list` shows them. */
export interface UserSummary {
  readonly username: string;
  readonly administrator: boolean;
  readonly disabled: boolean;
  readonly locked: boolean;
  readonly temporary: boolean;
  readonly mfa: boolean;
  /** The databases granted, by name, comma-separated (names cannot hold a comma). */
  readonly databases: string;
}

export class UserDirectory {
  constructor(private readonly registry: Database) {}

  async isAdministrator(clientId: string, username: string): Promise<boolean> {
    const [row] = await this.registry.query<{ administrator: boolean }>(
      'SELECT administrator FROM users WHERE client_id = $1 AND username = $2 AND NOT disabled',
      [clientId, username],
    );
    return row?.administrator === true;
  }

  async get(scope: Scope, userId: string, db: Queryable = this.registry): Promise<ApiRecord | null> {
    const [row] = await db.query(`SELECT * FROM ${VISIBLE} WHERE v."user_ID" = $3`, [scope.clientId, scope.database, userId]);
    return row ? toRecord(user, row) : null;
  }

  async count(scope: Scope): Promise<number> {
    const [{ n } = { n: 0 }] = await this.registry.query<{ n: number }>(`SELECT count(*)::int AS n FROM users u WHERE u.client_id = $1 AND ${granted('u')}`, [
      scope.clientId,
      scope.database,
    ]);
    return n;
  }

  async page(scope: Scope, order: readonly SortKey[], limit: number, offset: number): Promise<ApiRecord[]> {
    const orderBy = [...order.map((key) => `v.${ident(key.field.name)}${key.descending ? ' DESC' : ''}`), 'v."user_ID"'].join(', ');
    const rows = await this.registry.query(`SELECT * FROM ${VISIBLE} ORDER BY ${orderBy} LIMIT $3 OFFSET $4`, [
      scope.clientId,
      scope.database,
      limit,
      offset,
    ]);
    return rows.map((row) => toRecord(user, row));
  }

  /** Every user of a client, for the operator. */
  async summaries(clientId: string): Promise<UserSummary[]> {
    return this.registry.query<UserSummary>(
      `SELECT u.username, u.administrator, u.disabled, COALESCE(f.locked_until > now(), false) AS locked,
         u.password_temporary AS temporary, COALESCE(m.enabled AND m.secret IS NOT NULL, false) AS mfa,
         COALESCE((SELECT string_agg(d.name, ',' ORDER BY d.name) FROM user_databases g JOIN databases d ON d.id = g.database_id
                   WHERE g.client_id = u.client_id AND g.username = u.username), '') AS databases
       FROM users u LEFT JOIN login_failures f ON f.client_id = u.client_id AND f.username = u.username
       ${MFA_JOIN}
       WHERE u.client_id = $1 ORDER BY u.username`,
      [clientId],
    );
  }

  /** Whether the user is visible in the scope (the operator's: any user of the client). */
  async visible(scope: OperatorScope, userId: string): Promise<boolean> {
    return scope.database === null ? this.existsInClient(scope.clientId, userId) : (await this.get({ clientId: scope.clientId, database: scope.database }, userId)) !== null;
  }

  /** Whether this client has a user with this ID at all (granted this database or not). */
  async existsInClient(clientId: string, userId: string, db: Queryable = this.registry): Promise<boolean> {
    return (await db.query('SELECT 1 FROM users WHERE client_id = $1 AND username = $2', [clientId, userId])).length > 0;
  }

  /** Inserts a new user granted the scope's database; false when the client already has this user ID. */
  async insert(db: Queryable, scope: Scope, row: Row, passwordHash: string, by: string): Promise<boolean> {
    const columns = ['client_id', 'username', 'password_hash', 'password_temporary', '"entry_User"', '"update_User"', ...profileColumns];
    const inserted = await db.query(
      `INSERT INTO users (${columns.join(', ')}) VALUES ($1, $2, $3, true, $4, $4, ${placeholders(5).join(', ')})
       ON CONFLICT (client_id, username) DO NOTHING RETURNING username`,
      [scope.clientId, row.user_ID, passwordHash, by, ...profileValues(row)],
    );
    if (inserted.length === 0) return false;
    await db.query(
      `INSERT INTO user_databases (client_id, username, database_id) SELECT $1, $2, id FROM databases WHERE name = $3`,
      [scope.clientId, row.user_ID, scope.database],
    );
    return true;
  }

  /**
   * Full replacement of the profile fields of a visible user; a new password (hash) is a temporary
   * one. False when no such user is visible.
   */
  async replace(db: Queryable, scope: Scope, row: Row, passwordHash: string | null, by: string): Promise<boolean> {
    const sets = profileColumns.map((column, index) => `${column} = $${5 + index}`);
    const password = passwordHash === null ? '' : `, password_hash = $${5 + profileColumns.length}, password_temporary = true`;
    const updated = await db.query(
      `UPDATE users u SET ${sets.join(', ')}, "update_Date" = now(), "update_User" = $4${password}
       WHERE u.client_id = $1 AND ${granted('u')} AND u.username = $3 RETURNING username`,
      [scope.clientId, scope.database, row.user_ID, by, ...profileValues(row), ...(passwordHash === null ? [] : [passwordHash])],
    );
    return updated.length > 0;
  }

  async remove(db: Queryable, scope: Scope, userId: string): Promise<boolean> {
    const deleted = await db.query(`DELETE FROM users u WHERE u.client_id = $1 AND ${granted('u')} AND u.username = $3 RETURNING username`, [
      scope.clientId,
      scope.database,
      userId,
    ]);
    return deleted.length > 0;
  }

  /**
   * Sets a column of a visible user (admin-disable/enable, password reset); false when not visible.
   * A scope without a database is the operator's (the command line): every user of the client.
   */
  async setState(scope: OperatorScope, userId: string, change: { disabled?: boolean; passwordHash?: string; temporary?: boolean }, by: string): Promise<boolean> {
    const updated = await this.registry.query(
      `UPDATE users u SET disabled = COALESCE($4, disabled), password_hash = COALESCE($5, password_hash),
         password_temporary = COALESCE($6, password_temporary), "update_Date" = now(), "update_User" = $7
       WHERE u.client_id = $1 AND ($2::text IS NULL OR ${granted('u')}) AND u.username = $3 RETURNING username`,
      [scope.clientId, scope.database, userId, change.disabled ?? null, change.passwordHash ?? null, change.temporary ?? null, by],
    );
    return updated.length > 0;
  }
}

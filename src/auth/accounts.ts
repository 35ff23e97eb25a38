import type { Database } from '../store/database.js';
import { AccountError } from './account-error.js';
import { USER_ID } from '../entities/user.js';
import { TtlCache } from './cache.js';
import { passwordProblem } from './password-policy.js';
import { API_KEY_PREFIX_LENGTH, hashApiKey, hashPassword, newApiKey, randomId, verifyPassword } from './secrets.js';

export { AccountError };

/** Client ids: an allow-list, checked before anything is stored or looked up. */
export const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface ApiKeyOwner {
  readonly keyId: string;
  readonly clientId: string;
}

/**
 * Active keys found recently, per registry: a request then costs no registry query. `revokeKey`
 * clears it only for the Accounts of this process on the same registry (tests do that); the usual
 * revocation, `vbapi key revoke`, runs in a process of its own, so a running server stops
 * accepting the key within KEY_CACHE_MS. Unknown keys are not cached (nothing to gain from
 * remembering garbage).
 */
const KEY_CACHE_MS = 5_000;
/**
 * Kept per registry rather than per Accounts object on purpose: the app, `vbapi serve` and the
 * tests make several Accounts on one registry, and a key revoked through any of them must leave
 * all of them at once (test/auth.test.ts revokes through its own Accounts and expects the app to
 * refuse the key). Weak, so a closed registry takes its cache with it.
 */
const keyCaches = new WeakMap<Database, TtlCache<ApiKeyOwner>>();

/** A key's `last_used_at` is written at most this often (per key and process): never a write per request. */
const KEY_TOUCH_MS = 60_000;
/** Per registry, shared like the key cache: when this process last wrote each key's `last_used_at`. */
const keyTouches = new WeakMap<Database, Map<string, number>>();

export interface ClientSummary {
  readonly id: string;
  readonly code: string;
  readonly created: string;
  readonly activeKeys: number;
  readonly users: number;
}

export interface KeySummary {
  readonly id: string;
  readonly prefix: string;
  readonly created: string;
  readonly lastUsed: string | null;
  readonly revoked: string | null;
}

/** Clients, their API keys and users, and the databases users may use: kept in the registry. */
export class Accounts {
  private readonly keys: TtlCache<ApiKeyOwner>;
  private readonly touched: Map<string, number>;

  constructor(private readonly registry: Database) {
    const cache = keyCaches.get(registry) ?? new TtlCache<ApiKeyOwner>(KEY_CACHE_MS);
    keyCaches.set(registry, cache);
    this.keys = cache;
    const touched = keyTouches.get(registry) ?? new Map<string, number>();
    keyTouches.set(registry, touched);
    this.touched = touched;
  }

  async listClients(): Promise<ClientSummary[]> {
    return this.registry.query<ClientSummary>(
      `SELECT c.id, c.code, c.created_at AS created,
         (SELECT count(*)::int FROM api_keys k WHERE k.client_id = c.id AND k.revoked_at IS NULL) AS "activeKeys",
         (SELECT count(*)::int FROM users u WHERE u.client_id = c.id) AS users
       FROM clients c ORDER BY c.id`,
    );
  }

  /** A client's keys, revoked ones too: never the key, only its first characters. */
  async listKeys(clientId: string): Promise<KeySummary[]> {
    await this.requireClient(clientId);
    return this.registry.query<KeySummary>(
      `SELECT id, prefix, created_at AS created, last_used_at AS "lastUsed", revoked_at AS revoked
       FROM api_keys WHERE client_id = $1 ORDER BY created_at, id`,
      [clientId],
    );
  }

  async createClient(id: string, code: string): Promise<void> {
    if (!CLIENT_ID.test(id)) throw new AccountError(`invalid client id "${id}": use 1-64 letters, digits, "_", "." or "-"`);
    if (!code || code.length > 128) throw new AccountError('the client code must be 1-128 characters');
    const inserted = await this.registry.query('INSERT INTO clients (id, code) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id', [id, code]);
    if (inserted.length === 0) throw new AccountError(`client "${id}" already exists`);
  }

  /** Creates a key and returns it: the only time it exists outside its hash. */
  async createKey(clientId: string): Promise<{ id: string; key: string }> {
    await this.requireClient(clientId);
    const key = newApiKey();
    const id = randomId();
    await this.registry.query('INSERT INTO api_keys (id, client_id, prefix, hash) VALUES ($1, $2, $3, $4)', [
      id,
      clientId,
      key.slice(0, API_KEY_PREFIX_LENGTH),
      hashApiKey(key),
    ]);
    return { id, key };
  }

  /** Revokes the key with this id, or the one key whose prefix this text starts with (a whole key works too). */
  async revokeKey(idOrPrefix: string): Promise<string> {
    const matches = await this.registry.query<{ id: string }>(
      'SELECT id FROM api_keys WHERE revoked_at IS NULL AND (id = $1 OR left($1, $2) = prefix)',
      [idOrPrefix, API_KEY_PREFIX_LENGTH],
    );
    const [match] = matches;
    if (!match) throw new AccountError(`no active API key matches "${idOrPrefix}"`);
    if (matches.length > 1) throw new AccountError(`"${idOrPrefix}" matches ${matches.length} keys; give the key id instead`);
    await this.registry.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [match.id]);
    this.keys.clear();
    return match.id;
  }

  /** The client of an active key, or null. Keys are found by hash: the key itself is never stored. */
  async keyOwner(key: string): Promise<ApiKeyOwner | null> {
    const hash = hashApiKey(key);
    const cached = this.keys.get(hash);
    if (cached) {
      this.touch(cached.keyId);
      return cached;
    }
    const [row] = await this.registry.query<ApiKeyOwner>(
      'SELECT id AS "keyId", client_id AS "clientId" FROM api_keys WHERE hash = $1 AND revoked_at IS NULL',
      [hash],
    );
    if (row) this.keys.set(hash, row);
    if (row) this.touch(row.keyId);
    return row ?? null;
  }

  /**
   * Records that a key was used, at most once per KEY_TOUCH_MS per key in this process (and, by the
   * condition, once a minute across processes sharing the registry). Not awaited: a request never
   * waits for it, and a failed write only loses a timestamp.
   */
  private touch(keyId: string): void {
    const now = Date.now();
    const last = this.touched.get(keyId);
    if (last !== undefined && now - last < KEY_TOUCH_MS) return;
    this.touched.set(keyId, now);
    this.registry
      .query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`, [keyId])
      .catch(() => this.touched.delete(keyId));
  }

  async clientCode(clientId: string): Promise<string | null> {
    const [row] = await this.registry.query<{ code: string }>('SELECT code FROM clients WHERE id = $1', [clientId]);
    return row?.code ?? null;
  }

  /**
   * A user made by the operator. Their password is permanent unless `temporary` (then it must be
   * replaced at the first login); `administrator` lets them manage the client's users over the API.
   */
  async createUser(
    clientId: string,
    username: string,
    password: string,
    databases: readonly string[],
    options: { administrator?: boolean; temporary?: boolean } = {},
  ): Promise<void> {
    await this.requireClient(clientId);
    // The vendor's 16 for new users; users made earlier with up to 20 characters keep logging in.
    if (!USER_ID.test(username)) throw new AccountError(`invalid username "${username}": use 1-16 letters, digits, "_", ".", "@" or "-"`);
    const weak = passwordProblem(username, password);
    if (weak) throw new AccountError(`the password ${weak}`);
    if (databases.length === 0) throw new AccountError('grant the user at least one database (--database <name>)');
    const ids = await this.databaseIds(databases);
    const hash = await hashPassword(password);
    await this.registry.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO users (client_id, username, password_hash, "eMail_Address", administrator, password_temporary)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING username`,
        [clientId, username, hash, placeholderEmail(username), options.administrator ?? false, options.temporary ?? false],
      );
      if (inserted.length === 0) throw new AccountError(`user "${username}" of client "${clientId}" already exists`);
      for (const id of ids) {
        await tx.query('INSERT INTO user_databases (client_id, username, database_id) VALUES ($1, $2, $3)', [clientId, username, id]);
      }
    });
  }

  async grant(clientId: string, username: string, databases: readonly string[]): Promise<void> {
    const ids = await this.databaseIds(databases);
    const [user] = await this.registry.query('SELECT 1 FROM users WHERE client_id = $1 AND username = $2', [clientId, username]);
    if (!user) throw new AccountError(`no user "${username}" in client "${clientId}"`);
    for (const id of ids) {
      await this.registry.query(
        'INSERT INTO user_databases (client_id, username, database_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [clientId, username, id],
      );
    }
  }

  /**
   * True when the password is right; takes as long for an unknown user as for a wrong password.
   * `schedule` runs the hash (login passes its bounded queue; by default it runs at once).
   */
  async checkPassword(
    clientId: string,
    username: string,
    password: string,
    schedule: (hash: () => Promise<boolean>) => Promise<boolean> = (hash) => hash(),
  ): Promise<boolean> {
    const [row] = await this.registry.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE client_id = $1 AND username = $2',
      [clientId, username],
    );
    return schedule(() => verifyPassword(password, row?.password_hash));
  }

  /**
   * The password check of a login, and what the user's record says about it. Takes as long for an
   * unknown (or disabled) user as for a wrong password; `ok` only when the user exists, is enabled
   * and the password is right.
   */
  async verifyLogin(
    clientId: string,
    username: string,
    password: string,
    schedule: (hash: () => Promise<boolean>) => Promise<boolean> = (hash) => hash(),
  ): Promise<{ ok: boolean; passwordOk: boolean; temporary: boolean }> {
    const [row] = await this.registry.query<{ password_hash: string; disabled: boolean; password_temporary: boolean }>(
      'SELECT password_hash, disabled, password_temporary FROM users WHERE client_id = $1 AND username = $2',
      [clientId, username],
    );
    const passwordOk = await schedule(() => verifyPassword(password, row?.password_hash));
    return { ok: passwordOk && row?.disabled === false, passwordOk, temporary: row?.password_temporary ?? false };
  }

  async mayUse(clientId: string, username: string, database: string): Promise<boolean> {
    const rows = await this.registry.query(
      `SELECT 1 FROM user_databases g JOIN databases d ON d.id = g.database_id
       WHERE g.client_id = $1 AND g.username = $2 AND d.name = $3`,
      [clientId, username, database],
    );
    return rows.length > 0;
  }

  async hasClients(): Promise<boolean> {
    return (await this.registry.query('SELECT 1 FROM clients LIMIT 1')).length > 0;
  }

  private async requireClient(clientId: string): Promise<void> {
    if ((await this.clientCode(clientId)) === null) throw new AccountError(`no client "${clientId}"`);
  }

  private async databaseIds(names: readonly string[]): Promise<number[]> {
    const rows = await this.registry.query<{ id: number; name: string }>(
      'SELECT id, name FROM databases WHERE name IN (SELECT json_array_elements_text($1::json))',
      [JSON.stringify(names)],
    );
    const missing = names.filter((name) => !rows.some((row) => row.name === name));
    if (missing.length) throw new AccountError(`no database "${missing[0]}"`);
    return rows.map((row) => row.id);
  }
}

/** The record requires an e-mail address; the command line asks for none, so a reserved (.invalid, RFC 2606) one stands in. */
function placeholderEmail(username: string): string {
  return username.includes('@') ? username : `${username}@users.invalid`;
}

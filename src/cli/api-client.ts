import { HEADER } from '../http/headers.js';

/**
 * The command line's client of a running server: the same calls any client makes (log in, batch
 * PUTs, paged GETs), with retries where retrying is safe: network failures, 429 (honouring
 * Retry-After), 503, and 409 from a request with the same Idempotency-Key still in flight.
 * Batch PUTs always carry an Idempotency-Key, so a retry of one that was applied replays its answer.
 */
export interface ServerCredentials {
  readonly url: string;
  readonly apiKey: string;
  readonly clientId: string;
  readonly clientCode: string;
  readonly database: string;
  readonly username: string;
  readonly password: string;
}

/** A refusal that retrying will not change (bad credentials, 4xx): shown as one line, exit 1. */
export class ServerError extends Error {}

export interface BatchEntry {
  readonly id: { key: string; value: string | null }[];
  readonly status: number;
  readonly body: string;
}

const USER_AGENT = 'vbapi-cli';
const MAX_ATTEMPTS = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Credentials from flags, else the environment (VBAPI_URL, VBAPI_API_KEY, …); missing ones are named. */
const SOURCES: [keyof ServerCredentials, string, string][] = [
  ['url', 'server', 'VBAPI_URL'],
  ['apiKey', 'api-key', 'VBAPI_API_KEY'],
  ['clientId', 'client-id', 'VBAPI_CLIENT_ID'],
  ['clientCode', 'client-code', 'VBAPI_CLIENT_CODE'],
  ['database', 'database', 'VBAPI_DATABASE'],
  ['username', 'username', 'VBAPI_USERNAME'],
  ['password', 'password', 'VBAPI_PASSWORD'],
];

export function credentialsFrom(values: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv = process.env): ServerCredentials {
  const found: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, flag, variable] of SOURCES) {
    const value = (values[flag] as string | undefined) ?? env[variable];
    if (value) found[name] = value;
    else missing.push(`--${flag} (or ${variable})`);
  }
  if (missing.length) throw new CredentialsMissing(`missing ${missing.join(', ')}`);
  return { ...(found as unknown as ServerCredentials), url: found.url!.replace(/\/+$/, '') };
}

export class CredentialsMissing extends Error {}

export class ApiClient {
  private token: string | null = null;

  constructor(private readonly credentials: ServerCredentials, private readonly onRetry: (why: string) => void = () => undefined) {}

  async login(): Promise<void> {
    const { apiKey, username, password, clientId, clientCode } = this.credentials;
    const response = await this.send('POST', '/user-authentication', {
      [HEADER.apiKey]: apiKey,
      [HEADER.authorization]: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
      [HEADER.clientId]: clientId,
      [HEADER.clientCode]: clientCode,
    });
    if (response.status !== 200) throw new ServerError(`login refused: ${response.status} ${detail(response.text)}`);
    this.token = (JSON.parse(response.text) as { data: { authenticationResult: { idToken: string } } }).data.authenticationResult.idToken;
  }

  /** One batch PUT; answers the per-record entries and whether the server replayed a stored answer. */
  async putBatch(path: string, records: unknown[], options: { key: string | null; validateOnly: boolean; allOrNone: boolean }): Promise<{ entries: BatchEntry[]; replayed: boolean }> {
    const query = new URLSearchParams();
    if (options.validateOnly) query.set('validateOnly', 'true');
    if (options.allOrNone) query.set('allOrNone', 'true');
    const url = `/${path}${query.size ? `?${query}` : ''}`;
    const response = await this.authenticated('PUT', url, JSON.stringify(records), options.key ? { [HEADER.idempotencyKey]: options.key } : {});
    if (response.status !== 207) throw new ServerError(`${path}: the server answered ${response.status}: ${detail(response.text)}`);
    return { entries: (JSON.parse(response.text) as { data: BatchEntry[] }).data, replayed: response.headers.get(HEADER.idempotentReplayed) === 'true' };
  }

  /** One page of a list, with the total the server reports. */
  async page(path: string, page: number, pageSize: number): Promise<{ records: Record<string, unknown>[]; total: number }> {
    const response = await this.authenticated('GET', `/${path}?page=${page}&pageSize=${pageSize}`);
    if (response.status !== 200) throw new ServerError(`${path}: the server answered ${response.status}: ${detail(response.text)}`);
    const pagination = JSON.parse(response.headers.get(HEADER.pagination) ?? '{}') as { TotalCount?: number };
    return { records: (JSON.parse(response.text) as { data: Record<string, unknown>[] }).data, total: pagination.TotalCount ?? 0 };
  }

  private async authenticated(method: string, url: string, body?: string, extra: Record<string, string> = {}): Promise<Answer> {
    if (!this.token) await this.login();
    const headers = () => ({ [HEADER.apiKey]: this.credentials.apiKey, [HEADER.authorization]: `Bearer ${this.token}`, ...extra });
    let response = await this.send(method, url, headers(), body);
    if (response.status === 401) {
      await this.login(); // the token expired during a long run
      response = await this.send(method, url, headers(), body);
    }
    return response;
  }

  /** One request, retried with exponential backoff (and jitter) on what a retry can fix. */
  private async send(method: string, url: string, headers: Record<string, string>, body?: string): Promise<Answer> {
    for (let attempt = 1; ; attempt++) {
      let why: string;
      let waitMs = Math.min(30_000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
      try {
        const response = await fetch(`${this.credentials.url}${url}`, {
          method,
          headers: {
            'user-agent': USER_AGENT,
            [HEADER.database]: this.credentials.database,
            ...(body === undefined ? {} : { [HEADER.contentType]: 'application/json' }),
            ...headers,
          },
          ...(body === undefined ? {} : { body }),
        });
        const text = await response.text();
        if (![409, 429, 503].includes(response.status)) return { status: response.status, headers: response.headers, text };
        why = `${response.status} ${detail(text)}`;
        const retryAfter = Number(response.headers.get(HEADER.retryAfter));
        if (Number.isFinite(retryAfter) && retryAfter > 0) waitMs = Math.max(waitMs, retryAfter * 1000);
      } catch (error) {
        // fetch reports a network failure as a TypeError whose cause carries a code (ECONNREFUSED,
        // ECONNRESET, UND_ERR_SOCKET…); anything else (an invalid header value) will not get better.
        const cause = (error as Error).cause as { code?: unknown; message?: string } | undefined;
        if (typeof cause?.code !== 'string') throw new ServerError(`${method} ${url}: ${(error as Error).message}`);
        why = `network: ${cause.message ?? cause.code}`;
      }
      if (attempt >= MAX_ATTEMPTS) throw new ServerError(`${method} ${url} failed after ${attempt} attempts: ${why}`);
      this.onRetry(`${why}; retrying in ${(waitMs / 1000).toFixed(1)} s`);
      await sleep(waitMs);
    }
  }
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

function detail(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { detail?: string } }).error?.detail ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

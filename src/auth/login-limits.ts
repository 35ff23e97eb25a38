import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { ApiError } from '../http/errors.js';
import { HashQueue, HashQueueFull } from './hash-queue.js';
import { memoryLimiter, redisLimiter, type RateLimit, type RateLimiter } from './rate-limit.js';
import { HEADER } from '../http/headers.js';

export type LoginLimitConfig = Pick<Config, 'loginRate' | 'loginUserRate' | 'passwordHashConcurrency' | 'passwordHashQueue' | 'redisUrl'>;

/**
 * What stands between a login and a password hash: a rate per client and per username (the
 * vendor answers 429 when login is overused), then a bounded, fair queue for the hash itself.
 * A login that passes neither costs no hash. (The lockout after repeated failures, src/auth/lockout.ts,
 * is asked right after `admit`, also before any hash.)
 */
export class LoginLimits {
  private constructor(
    private readonly perClient: RateLimiter | null,
    private readonly perUser: RateLimiter | null,
    private readonly hashes: HashQueue,
  ) {}

  static create(config: LoginLimitConfig, log: FastifyBaseLogger): LoginLimits {
    const limiter = (limit: RateLimit | null, prefix: string) =>
      limit === null ? null : config.redisUrl ? redisLimiter(config.redisUrl, limit, log, prefix) : memoryLimiter(limit);
    return new LoginLimits(
      limiter(config.loginRate, 'vbapi:login-client:'),
      limiter(config.loginUserRate, 'vbapi:login-user:'),
      new HashQueue(config.passwordHashConcurrency, config.passwordHashQueue),
    );
  }

  /** Takes one login from the client's and the username's budgets, or throws 429 with Retry-After. */
  async admit(clientId: string, username: string): Promise<void> {
    for (const [limiter, bucket] of [
      [this.perClient, clientId],
      [this.perUser, `${clientId}\u0000${username}`],
    ] as const) {
      const verdict = await limiter?.take(bucket);
      if (verdict && !verdict.allowed) throw tooManyLogins(verdict.retryAfterSeconds);
    }
  }

  /** Runs the password check when the client's turn for a hash slot comes; 429 when the waiting line is full. */
  async hash<T>(clientId: string, check: () => Promise<T>): Promise<T> {
    try {
      return await this.hashes.run(clientId, check);
    } catch (error) {
      if (error instanceof HashQueueFull) throw tooManyLogins(error.retryAfterSeconds);
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.perClient?.close(), this.perUser?.close()]);
  }
}

const tooManyLogins = (seconds: number) =>
  new ApiError(429, `Too many logins; retry after ${seconds} s`, undefined, { [HEADER.retryAfter]: String(seconds) });

import { createRequire } from 'node:module';
import type * as IoRedis from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';

/** Token bucket: `perSecond` tokens flow in, up to `burst` are kept; each request takes one. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

export interface Verdict {
  readonly allowed: boolean;
  /** When not allowed: whole seconds until a token is available (≥ 1), for `Retry-After`. */
  readonly retryAfterSeconds: number;
}

export interface RateLimiter {
  take(bucket: string): Promise<Verdict>;
  close(): Promise<void>;
}

const denied = (waitMs: number): Verdict => ({ allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) });
const ALLOWED: Verdict = { allowed: true, retryAfterSeconds: 0 };

/** One process's buckets (one per API key). */
export function memoryLimiter(limit: RateLimit, now: () => number = () => performance.now()): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  // A bucket untouched this long is full again, the same as no bucket: forgetting it keeps the map
  // bounded even when bucket names come from clients (login usernames).
  const refillMs = (limit.burst * 1000) / limit.perSecond;
  let sweptAt = now();
  return {
    async take(bucket) {
      const time = now();
      if (time - sweptAt > refillMs) {
        for (const [name, state] of buckets) if (time - state.at >= refillMs) buckets.delete(name);
        sweptAt = time;
      }
      const state = buckets.get(bucket) ?? { tokens: limit.burst, at: time };
      state.tokens = Math.min(limit.burst, state.tokens + ((time - state.at) * limit.perSecond) / 1000);
      state.at = time;
      buckets.set(bucket, state);
      if (state.tokens >= 1) {
        state.tokens -= 1;
        return ALLOWED;
      }
      return denied(((1 - state.tokens) * 1000) / limit.perSecond);
    },
    close: async () => undefined,
  };
}

/**
 * The same bucket kept in Redis, so every server instance draws from it. One Lua script reads,
 * refills and takes atomically, on Redis's clock (instances' clocks may disagree).
 */
const TAKE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait`;

export function redisLimiter(url: string, limit: RateLimit, log: FastifyBaseLogger, prefix = 'vbapi:rate:'): RateLimiter {
  // Commands wait for a (re)connection, but never long: a request is not held up by a missing Redis.
  // Loaded only when Redis is configured: ioredis took 0.1–0.2 s of every embedded server's start.
  const { Redis } = createRequire(import.meta.url)('ioredis') as typeof IoRedis;
  const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000 });
  redis.on('error', (error) => log.warn({ err: error }, 'Redis (rate limit) error'));
  return {
    async take(bucket) {
      try {
        const wait = Number(await redis.eval(TAKE, 1, `${prefix}${bucket}`, limit.perSecond, limit.burst));
        return wait > 0 ? denied(wait) : ALLOWED;
      } catch (error) {
        // Fail open: an unreachable Redis must not take the API down with it. It is logged.
        log.warn({ err: error }, 'rate limit not applied: Redis unavailable');
        return ALLOWED;
      }
    },
    close: async () => {
      redis.disconnect();
    },
  };
}

import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimited } from '../bank/core/index.js';
import type { Logger } from '../log.js';
import type { LoginLimiter } from '../runtime/services.js';

async function consume(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (err) {
    if (err instanceof RateLimiterRes) throw new RateLimited(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
    throw err;
  }
}

/**
 * rate-limiter-flexible: with REDIS_URL the count lives in Redis, so the limit holds across
 * every pod; without it (one process) in memory. When Redis is unreachable the insurance
 * limiter (this process's memory) takes over, so sign-in keeps working, limited per pod.
 */
export function createLoginLimiter(opts: { perMinute: number; redisUrl?: string; prefix: string; logger?: Logger }): LoginLimiter {
  const keyPrefix = `${opts.prefix}:login`;
  const memory = new RateLimiterMemory({ points: opts.perMinute, duration: 60, keyPrefix });
  if (!opts.redisUrl) return { hit: (address) => consume(memory, address), close: async () => undefined };

  const client = new Redis(opts.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectionName: 'login-limiter',
    retryStrategy: (times: number) => Math.min(100 * times, 2_000),
  });
  let warned = false;
  client.on('error', (err: Error) => {
    if (!warned) opts.logger?.warn({ err: err.message }, 'login rate limit: Redis unreachable, counting in this process until it returns');
    warned = true;
  });
  client.on('ready', () => {
    warned = false;
  });
  const redis = new RateLimiterRedis({ storeClient: client, points: opts.perMinute, duration: 60, keyPrefix, insuranceLimiter: memory });
  return {
    hit: (address) => consume(redis, address),
    close: async () => {
      client.disconnect();
    },
  };
}

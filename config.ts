import { z } from 'zod';
import { parseSla } from './bank/support/index.js';

const bool = z.enum(['0', '1', 'true', 'false', 'yes', 'no', 'on', 'off', '']).transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:PATH or postgres://…')
    .default('sqlite:./data/bank.sqlite'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/.+/, 'must be redis://…')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** Prefix of the Socket.IO Redis adapter's channels: pods of one deployment share it, other deployments (or test runs) on the same Redis must not. */
  HUB_REDIS_PREFIX: z
    .string()
    .regex(/^[\w.:-]{1,64}$/, 'letters, digits, _ . : - only')
    .default('bank-hub'),
  ROLE: z.enum(['all', 'web', 'worker']).default('all'),
  BANK_ADMIN_PASSWORD: z
    .string()
    .min(8, 'must be at least 8 characters')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DEMO_DATA: bool.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/.+/, 'must be smtp://… or smtps://…')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  MAIL_DIR: z.string().default('./data/mail'),
  MAIL_FROM: z.string().default('Banking Hub <no-reply@bank.local>'),
  BANK_NAME: z.string().trim().min(1).max(80).default('Banking Hub'),
  CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO code')
    .default('INR'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  // Fractions are allowed (0.25 = 15 s) so browser tests of the idle warning stay short.
  SESSION_IDLE_MINUTES: z.coerce.number().positive().default(30),
  /** How long before the idle limit the web app asks "still there?" (never more than half the limit). */
  SESSION_IDLE_WARNING_SECONDS: z.coerce.number().int().min(5).default(60),
  SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).default(12),
  COOKIE_SECURE: bool.default(false),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(5),
  LOGIN_LOCK_MINUTES: z.coerce.number().int().min(1).default(15),
  LOGIN_RATE_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  JOBS_PROCESS_EVERY_MS: z.coerce.number().int().min(100).default(5000),
  TRUST_PROXY: bool.default(false),
  /** Seals TOTP secrets at rest (AES-256-GCM, key derived with HKDF); unset = the public development key. */
  TOTP_ENCRYPTION_KEY: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. openssl rand -base64 32)')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** When set, GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`. */
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  HUB_MAX_SOCKETS_PER_SESSION: z.coerce.number().int().min(1).default(8),
  HUB_MAX_SOCKETS_PER_USER: z.coerce.number().int().min(1).default(20),
  /** `sync` commands answered at once by this process; more wait in a short queue, then are refused. */
  HUB_SYNC_CONCURRENCY: z.coerce.number().int().min(1).default(4),
  HUB_SYNC_QUEUE: z.coerce.number().int().min(0).default(64),
  /** Ticket service-level targets: "urgent=15m/4h,high=1h/8h,normal=4h/1d,low=1d/5d" (first response / resolution). */
  TICKET_SLA: z
    .string()
    .default('')
    .transform((s, ctx) => {
      try {
        return parseSla(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** First webhook retry delay; each further one doubles (with jitter), capped at an hour. */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).default(5000),
  /** Allow webhook URLs on loopback and private networks (development, tests). */
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  /** How long one webhook attempt may take (connect and answer). */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Attempts in flight at once per endpoint (endpoints never wait for each other). */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
});

export type Config = z.infer<typeof schema>;

/** Reads and validates the environment once; a bad value stops the process with a clear message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

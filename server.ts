import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './log.js';
import { createKnex } from './db/knex.js';
import { oneAtATime } from './db/lock.js';
import { migrateLatest } from './db/migrate.js';
import { seedDemo } from './runtime/demo-seed.js';
import { writerOf } from './bank/ledger/index.js';
import { startSessionBus } from './runtime/session-bus.js';
import { createBankContext, type BankContext } from './bank/core/index.js';
import { ensureBankAccounts } from './bank/accounts/index.js';
import { ensureAdmin } from './bank/access/index.js';
import { createApp } from './rest/app.js';
import type { Services } from './runtime/services.js';
import { createMetrics } from './runtime/metrics.js';
import { createLoginLimiter } from './rest/login-limiter.js';
import { attachHub, type Hub } from './hub/index.js';
import { startJobs, type Jobs } from './jobs/index.js';

export interface Running {
  config: Config;
  bank: BankContext;
  url: string;
  port: number;
  server: http.Server | null;
  hub: Hub | null;
  jobs: Jobs | null;
  logger: Logger;
  demoLogins: { username: string; password: string; role: string }[];
  stop(): Promise<void>;
}

/** Opens the database, prepares it, and starts the roles this process is given. */
export async function startBank(config: Config, opts: { logger?: Logger } = {}): Promise<Running> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const db = createKnex({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX, backgroundCheckpoint: true });
  const bank = createBankContext(db, {
    currency: config.CURRENCY,
    ticketSla: config.TICKET_SLA,
    totpEncryptionKey: config.TOTP_ENCRYPTION_KEY,
  });
  if (!config.TOTP_ENCRYPTION_KEY)
    logger.warn(
      'TOTP_ENCRYPTION_KEY is not set: TOTP secrets are sealed with the public development key; set your own outside development',
    );
  const demoLogins = await oneAtATime(config.DATABASE_URL, async () => {
    await migrateLatest(db);
    await ensureBankAccounts(bank, config.CURRENCY);
    if (await ensureAdmin(bank, config.BANK_ADMIN_PASSWORD)) logger.info('created the admin user from BANK_ADMIN_PASSWORD');
    return config.DEMO_DATA ? seedDemo(bank) : [];
  });

  const metrics = createMetrics(bank);
  const loginLimiter = createLoginLimiter({
    perMinute: config.LOGIN_RATE_PER_MINUTE,
    redisUrl: config.REDIS_URL,
    prefix: config.HUB_REDIS_PREFIX,
    logger,
  });
  const services: Services = {
    sessionPolicy: { idleMinutes: config.SESSION_IDLE_MINUTES, absoluteHours: config.SESSION_ABSOLUTE_HOURS },
    loginLimiter,
    readiness: [],
    metricsText: metrics.text,
    observe: metrics.observe,
  };

  const sessionBus = config.REDIS_URL ? startSessionBus(bank, config.REDIS_URL, config.HUB_REDIS_PREFIX, logger) : null;
  let server: http.Server | null = null;
  let hub: Hub | null = null;
  let jobs: Jobs | null = null;
  const web = config.ROLE !== 'worker';
  if (config.ROLE !== 'web') {
    jobs = await startJobs({ bank, config, logger, metrics, runScheduler: true });
  } else {
    // A web pod can still run a job on demand (POST /jobs/:name/run) without scheduling any.
    jobs = await startJobs({ bank, config, logger, metrics, runScheduler: false });
  }
  services.runJob = (name) => jobs!.runNow(name);
  services.jobNames = () => jobs!.names();

  server = http.createServer();
  const app = createApp({ bank, config, services, logger });
  if (web) {
    server.on('request', app.callback());
    hub = await attachHub(server, { bank, config, logger, metrics, services });
  } else {
    // A worker still answers /healthz, /readyz and /metrics for the orchestrator.
    server.on('request', app.callback());
  }
  await new Promise<void>((resolve, reject) => {
    server!.once('error', reject);
    server!.listen(config.PORT, config.HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST}:${port}`;

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await jobs?.stop().catch((err) => logger.warn({ err }, 'stopping jobs'));
      await hub?.close().catch((err) => logger.warn({ err }, 'stopping hub'));
      await new Promise<void>((resolve) => {
        server!.close(() => resolve());
        server!.closeAllConnections?.();
      });
      await loginLimiter.close();
      // Movements already accepted are written (and answered) before the database closes.
      await writerOf(bank).drain();
      await sessionBus?.close();
      await db.destroy();
    })());
  return { config, bank, url, port, server, hub, jobs, logger, demoLogins, stop };
}

async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const logger = createLogger(config.LOG_LEVEL);
  const running = await startBank(config, { logger });
  logger.info(
    { url: running.url, role: config.ROLE, database: config.DATABASE_URL.replace(/\/\/[^@]*@/, '//***@') },
    'banking hub started',
  );
  if (running.demoLogins.length) {
    const lines = running.demoLogins.map((l) => `  ${l.role.padEnd(9)} ${l.username.padEnd(10)} ${l.password}`);
    console.log(`\nBanking hub is running at ${running.url}\nDemo logins (role, username, password):\n${lines.join('\n')}\n`);
  } else {
    console.log(`\nBanking hub is running at ${running.url}\n`);
  }
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    running.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

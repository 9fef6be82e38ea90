import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { BankContext } from '../bank/core/index.js';
import { publicAddresses } from '../bank/outbox/index.js';
import {
  type AttemptOutcome,
  type ClaimedDelivery,
  claimDeliveries,
  deliveryBody,
  endpointsWithDueWork,
  enqueueDeliveries,
  recordAttempt,
  signature,
} from '../bank/outbox/index.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../runtime/metrics.js';

export interface WebhookSenderOptions {
  /** How often to scan and claim when no commit wakes the loop (commits in other processes). */
  everyMs?: number;
}

/**
 * The webhook sender (worker and all processes): scans the outbox into deliveries, then
 * serves each endpoint on its own, at most WEBHOOK_CONCURRENCY attempts in flight per
 * endpoint. Attempts are never awaited by the loop, so a slow or failing endpoint holds only
 * its own slots: other endpoints, sockets and money movement never wait for it.
 */
export function startWebhookSender(
  deps: { bank: BankContext; config: Config; logger: Logger; metrics: Metrics },
  opts: WebhookSenderOptions = {},
) {
  const { bank, config, metrics } = deps;
  const logger = deps.logger.child({ part: 'webhooks' });
  const everyMs = opts.everyMs ?? 1_000;
  const perEndpoint = config.WEBHOOK_CONCURRENCY;
  // Long enough for one attempt to finish; a crashed sender's claims are due again after it.
  const leaseMs = config.WEBHOOK_TIMEOUT_MS + 2_000;
  const inFlight = new Map<number, number>();
  const attempts = new Set<Promise<void>>();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;

  const attempt = async (d: ClaimedDelivery) => {
    const outcome = await post(d, config, logger);
    metrics.webhookAttempts.inc({ endpoint: String(d.endpointId), result: outcome.ok ? 'success' : 'failure' });
    const result = await recordAttempt(bank, d, outcome, config.WEBHOOK_RETRY_BASE_MS);
    metrics.webhookDeliveries.inc({ outcome: result });
    // A retry due sooner than the next tick (small WEBHOOK_RETRY_BASE_MS) is looked at in time.
    if (result === 'retrying' && config.WEBHOOK_RETRY_BASE_MS < everyMs) setTimeout(wake, config.WEBHOOK_RETRY_BASE_MS).unref();
    if (result === 'delivered') {
      const lag = (Date.now() - Date.parse(d.event.createdAt)) / 1000;
      if (Number.isFinite(lag)) metrics.webhookLag.observe(Math.max(0, lag));
    }
  };

  const launch = (d: ClaimedDelivery) => {
    inFlight.set(d.endpointId, (inFlight.get(d.endpointId) ?? 0) + 1);
    const p: Promise<void> = attempt(d)
      .catch((err) => logger.warn({ err, deliveryId: d.id }, 'recording a webhook attempt failed; the lease expires and it is tried again'))
      .finally(() => {
        inFlight.set(d.endpointId, (inFlight.get(d.endpointId) ?? 1) - 1);
        attempts.delete(p);
        wake();
      });
    attempts.add(p);
  };

  const tick = async () => {
    await enqueueDeliveries(bank);
    for (const endpointId of await endpointsWithDueWork(bank)) {
      if (stopped) return;
      const free = perEndpoint - (inFlight.get(endpointId) ?? 0);
      if (free <= 0) continue;
      for (const d of await claimDeliveries(bank, endpointId, free, leaseMs)) launch(d);
    }
  };

  const loop = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    timer = null;
    again = false;
    running = tick()
      .catch((err) => logger.warn({ err }, 'webhook tick failed'))
      .finally(() => {
        running = null;
        if (stopped) return;
        if (again) setImmediate(loop);
        else {
          timer = setTimeout(loop, everyMs);
          timer.unref();
        }
      });
  };
  /** A commit here (or a finished attempt) means there may be work now. */
  const wake = () => {
    if (stopped) return;
    if (running) again = true;
    else loop();
  };
  const onCommitted = () => wake();
  bank.signals.on('committed', onCommitted);
  loop();

  return {
    wake,
    async stop() {
      stopped = true;
      bank.signals.off('committed', onCommitted);
      if (timer) clearTimeout(timer);
      await running;
      // In-flight attempts finish within their timeout; their leases cover a hard stop.
      await Promise.allSettled([...attempts]);
    },
  };
}
export type WebhookSender = ReturnType<typeof startWebhookSender>;

/** Resolves the host, refuses private addresses (unless allowed), and connects only to what it checked. */
function pinnedLookup(allowPrivate: boolean): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    publicAddresses(hostname, allowPrivate).then(
      (addresses) => (options?.all ? callback(null, addresses) : callback(null, addresses[0].address, addresses[0].family)),
      (err: Error) => callback(err),
    );
  }) as unknown as LookupFunction;
}

/** One POST of a delivery. Never throws: every failure is an outcome. */
function post(d: ClaimedDelivery, config: Config, logger: Logger): Promise<AttemptOutcome> {
  const body = deliveryBody(d);
  const t = Math.floor(Date.now() / 1000);
  let url: URL;
  try {
    url = new URL(d.url);
  } catch {
    return Promise.resolve({ ok: false, statusCode: null, error: 'invalid url' });
  }
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(o);
    };
    const req = lib.request(
      url,
      {
        method: 'POST',
        lookup: pinnedLookup(config.WEBHOOK_ALLOW_PRIVATE),
        agent: false,
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
          'User-Agent': 'BankingHub-Webhooks/1',
          'X-Bank-Event': d.event.type,
          'X-Bank-Delivery': String(d.id),
          'X-Bank-Signature': signature(d.secret, body, t),
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume(); // the answer's body is not ours to keep
        res.on('end', () =>
          done(
            status >= 200 && status < 300 ? { ok: true, statusCode: status } : { ok: false, statusCode: status, error: `HTTP ${status}` },
          ),
        );
        res.on('error', (err) => done({ ok: false, statusCode: status, error: err.message }));
      },
    );
    const deadline = setTimeout(() => {
      req.destroy(new Error(`timed out after ${config.WEBHOOK_TIMEOUT_MS} ms`));
    }, config.WEBHOOK_TIMEOUT_MS);
    req.on('error', (err) => {
      logger.debug({ err: err.message, deliveryId: d.id }, 'webhook attempt failed');
      done({ ok: false, statusCode: null, error: err.message });
    });
    req.end(body);
  });
}

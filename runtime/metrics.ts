import client from 'prom-client';
import type { BankContext } from '../bank/core/index.js';
import type { PendingEvent } from '../bank/outbox/index.js';
import { unpublishedCount } from '../bank/outbox/index.js';
import { pendingDeliveryCount } from '../bank/outbox/index.js';

/**
 * One registry per process, shared by the runtime layers (REST, hub, jobs): every metric the
 * Grafana dashboards query is defined here.
 */
export function createMetrics(bank: BankContext) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'bank_node_' });
  // prom-client also reports these gauges' totals under *_total names, which Prometheus keeps
  // for counters (`promtool check metrics` refuses them); sum the per-type gauges instead.
  for (const kind of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`bank_node_nodejs_active_${kind}_total`);

  const httpDuration = new client.Histogram({
    name: 'bank_http_request_duration_seconds',
    help: 'HTTP request duration by method, matched route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const ledger = new client.Counter({
    name: 'bank_ledger_transactions_total',
    help: 'Money movements by kind and outcome: posted, pending_approval, approved, rejected as they commit; refusals by error code',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  const logins = new client.Counter({
    name: 'bank_logins_total',
    help: 'Login attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const socketConnections = new client.Gauge({
    name: 'bank_socket_connections',
    help: 'Socket.IO connections open on this process',
    registers: [registry],
  });
  const eventsPublished = new client.Counter({
    name: 'bank_events_published_total',
    help: 'Outbox events emitted to sockets, by path (live or relay) and event type',
    labelNames: ['path', 'type'] as const,
    registers: [registry],
  });
  const eventsReplayed = new client.Counter({
    name: 'bank_events_replayed_total',
    help: 'Events sent to clients through sync (replay from the database)',
    registers: [registry],
  });
  // The hub's own traffic: who connects and how, why sockets go, what clients ask for.
  const socketConnects = new client.Counter({
    name: 'bank_socket_connects_total',
    help: 'Sockets accepted, by the transport they connected with (websocket or polling)',
    labelNames: ['transport'] as const,
    registers: [registry],
  });
  const socketRefusals = new client.Counter({
    name: 'bank_socket_refusals_total',
    help: 'Socket handshakes refused, by the error the client was given',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const socketDisconnects = new client.Counter({
    name: 'bank_socket_disconnects_total',
    help: "Sockets closed, by Socket.IO's reason (transport close, ping timeout, server namespace disconnect, ...)",
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const socketCommands = new client.Counter({
    name: 'bank_socket_commands_total',
    help: 'Client commands answered, by command and outcome (ok, or the error code: rate_limited, forbidden, ...)',
    labelNames: ['command', 'outcome'] as const,
    registers: [registry],
  });
  const redisPublishFailures = new client.Counter({
    name: 'bank_redis_adapter_publish_failures_total',
    help: 'Events whose Redis publish failed: they reached local sockets only and were left for the relay',
    registers: [registry],
  });
  // Filled at scrape time from the hub's Redis link; a process without Redis has no series.
  let redisClients: (() => Record<string, boolean>) | null = null;
  new client.Gauge({
    name: 'bank_redis_adapter_up',
    help: 'Whether each Redis client of the Socket.IO adapter (pub, sub) is connected and ready',
    labelNames: ['client'] as const,
    registers: [registry],
    collect() {
      if (!redisClients) return;
      for (const [name, up] of Object.entries(redisClients())) this.set({ client: name }, up ? 1 : 0);
    },
  });
  const publishLag = new client.Histogram({
    name: 'bank_event_publish_lag_seconds',
    help: 'Time from an event being committed to it being emitted',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
    registers: [registry],
  });
  const jobRuns = new client.Counter({
    name: 'bank_job_runs_total',
    help: 'Background job runs by job and outcome',
    labelNames: ['job_name', 'outcome'] as const,
    registers: [registry],
  });
  const jobDuration = new client.Histogram({
    name: 'bank_job_duration_seconds',
    help: 'Background job duration',
    labelNames: ['job_name'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
    registers: [registry],
  });
  const jobLag = new client.Histogram({
    name: 'bank_job_lag_seconds',
    help: 'Delay between a job being due and starting',
    labelNames: ['job_name'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800],
    registers: [registry],
  });
  const webhookDeliveries = new client.Counter({
    name: 'bank_webhook_deliveries_total',
    help: 'Webhook delivery attempts by what became of the delivery: delivered, retrying (due again later) or failed (retry window over)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const webhookAttempts = new client.Counter({
    name: 'bank_webhook_attempts_total',
    help: 'Webhook HTTP attempts by endpoint id and result (success: a 2xx answer)',
    labelNames: ['endpoint', 'result'] as const,
    registers: [registry],
  });
  const webhookLag = new client.Histogram({
    name: 'bank_webhook_delivery_lag_seconds',
    help: 'Time from an event being committed to its webhook being delivered (retries included)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120, 600, 3600, 86400],
    registers: [registry],
  });
  new client.Gauge({
    name: 'bank_webhook_pending',
    help: 'Webhook deliveries waiting to be delivered (first try or retry)',
    registers: [registry],
    async collect() {
      try {
        this.set(await pendingDeliveryCount(bank.db));
      } catch {
        // Database unreachable (or not migrated yet): leave the last value.
      }
    },
  });
  new client.Gauge({
    name: 'bank_outbox_backlog',
    help: 'Committed events not yet published',
    registers: [registry],
    async collect() {
      try {
        this.set(await unpublishedCount(bank.db));
      } catch {
        // Database unreachable: leave the last value; /readyz reports it.
      }
    },
  });

  const groupSize = new client.Histogram({
    name: 'bank_ledger_group_size',
    help: 'Money movements written together in one database transaction (group commit)',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 256],
    registers: [registry],
  });
  const groupSeconds = new client.Histogram({
    name: 'bank_ledger_group_seconds',
    help: 'Time to write and commit one group of money movements',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  bank.signals.on('ledger.group', (size: number, seconds: number) => {
    groupSize.observe(size);
    groupSeconds.observe(seconds);
  });

  // Money movements are counted where they commit, whatever started them (REST, a batch,
  // an approval, the interest job); a replayed idempotent request commits nothing.
  const OUTCOME: Record<string, string> = {
    'transaction.posted': 'posted',
    'transaction.pending': 'pending_approval',
    'transaction.approved': 'approved',
    'transaction.rejected': 'rejected',
    'transaction.cancelled': 'cancelled',
  };
  bank.signals.on('committed', (_seqs: number[], events: PendingEvent[] = []) => {
    for (const e of events) {
      const outcome = OUTCOME[e.type];
      const kind = (e.data.transaction as { kind?: string } | undefined)?.kind;
      if (outcome && kind) ledger.inc({ kind, outcome });
    }
  });

  return {
    registry,
    socketConnections,
    eventsPublished,
    eventsReplayed,
    socketConnects,
    socketRefusals,
    socketDisconnects,
    socketCommands,
    redisPublishFailures,
    /** The hub reports its Redis clients' state through this, read at every scrape. */
    watchRedis: (clients: () => Record<string, boolean>) => {
      redisClients = clients;
    },
    publishLag,
    jobRuns,
    jobDuration,
    jobLag,
    webhookDeliveries,
    webhookAttempts,
    webhookLag,
    text: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    observe: {
      http: (method: string, route: string, status: number, seconds: number) =>
        httpDuration.observe({ method, route, status: String(status) }, seconds),
      /** Refusals only: what commits is counted from the commit signal. */
      ledger: (kind: string, outcome: string) => ledger.inc({ kind, outcome }),
      login: (outcome: string) => logins.inc({ outcome }),
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

import crypto from 'node:crypto';
import type { Actor, BankContext } from '../core/context.js';
import { Invalid, NotFound } from '../core/errors.js';
import { audit } from '../audit/chain.js';
import { parseWebhookUrl, publicAddresses } from './net-guard.js';
import { payloadOf, withRooms, type EventRow, type OutboxEvent } from './read.js';
import { toPage } from '../core/paging.js';
import { requireCan } from '../access/permissions.js';
import { fromJson, type Tx, withTx } from '../core/db-tx.js';
import type { ServerEventName } from '../../shared/events.js';
import type { Row, WebhookDelivery, WebhookEndpoint } from '../../db/models.js';

// Webhooks: admin-registered endpoints that receive the bank's events by HTTP POST. The
// deliveries are driven from the outbox: a scan (enqueueDeliveries) turns every committed
// event an endpoint subscribes to into a webhook_deliveries row, under a cursor, so an
// event committed while no sender ran (a crash, a deploy) is still delivered. The sender
// (jobs/webhooks.ts) claims due rows with a lease, POSTs them signed, and records the outcome.

/** Events no integration receives, not even one subscribed to "*": they are about one person's session or inbox. */
const NOT_FOR_WEBHOOKS = new Set<string>(['notification', 'notification.read', 'session.revoked'] satisfies ServerEventName[]);
const EVENT_NAME = /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/;
export const RETRY_WINDOW_MS = 24 * 3600_000;
export const RETRY_CAP_MS = 3600_000;

type EndpointRow = Row<WebhookEndpoint>;

export type DeliveryRow = Row<WebhookDelivery>;

export function endpointDto(r: EndpointRow) {
  return {
    id: r.id,
    url: r.url,
    description: r.description,
    events: fromJson<string[]>(r.events) ?? [],
    active: !!r.active,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function deliveryDto(r: DeliveryRow) {
  return {
    id: Number(r.id),
    endpointId: r.endpoint_id,
    seq: Number(r.seq),
    event: r.event,
    status: r.status,
    attempts: r.attempts,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
    deliveredAt: r.delivered_at,
    createdAt: r.created_at,
  };
}

function eventNames(list: string[]): string[] {
  const names = [...new Set(list.map((e) => e.trim()))];
  if (!names.length) throw new Invalid('events must name at least one event (or "*" for all)', { fields: ['events'] });
  for (const n of names) {
    if (n !== '*' && (!EVENT_NAME.test(n) || n.length > 40 || NOT_FOR_WEBHOOKS.has(n))) {
      throw new Invalid(`"${n.slice(0, 60)}" is not an event a webhook can receive`, { fields: ['events'] });
    }
  }
  return names;
}

async function checkedUrl(raw: string, allowPrivate: boolean): Promise<string> {
  const url = parseWebhookUrl(raw);
  await publicAddresses(url.hostname, allowPrivate);
  return url.toString();
}

async function findEndpoint(q: Tx['q'] | BankContext['db'], id: number): Promise<EndpointRow> {
  const row: EndpointRow | undefined = await q('webhook_endpoints').where({ id }).whereNull('deleted_at').first();
  if (!row) throw new NotFound('Webhook');
  return row;
}

export interface WebhookPolicy {
  allowPrivate: boolean;
}

/** Registers an endpoint; the answer is the only time its secret is shown. */
export async function createWebhook(
  ctx: BankContext,
  actor: Actor,
  input: { url: string; events: string[]; description?: string },
  policy: WebhookPolicy,
) {
  requireCan(actor, 'webhooks.manage');
  const events = eventNames(input.events);
  const url = await checkedUrl(input.url, policy.allowPrivate);
  const description = input.description?.trim().slice(0, 200) || null;
  return withTx(ctx, async (t) => {
    const top = await t.q('events').max({ m: 'seq' }).first();
    const row = {
      url,
      description,
      events: JSON.stringify(events),
      secret: `whsec_${crypto.randomBytes(24).toString('hex')}`,
      active: true,
      after_seq: Number(top?.m ?? 0),
      created_at: t.now,
      updated_at: t.now,
      deleted_at: null,
    };
    const [ins] = await t.q('webhook_endpoints').insert(row, ['id']);
    const dto = endpointDto({ ...row, id: typeof ins === 'object' ? ins.id : ins });
    await audit(t, actor, { action: 'webhook.created', entity: 'webhook', entityId: dto.id, after: dto });
    return { ...dto, secret: row.secret };
  });
}

export async function listWebhooks(ctx: BankContext, actor: Actor) {
  requireCan(actor, 'webhooks.manage');
  const rows: EndpointRow[] = await ctx.db('webhook_endpoints').whereNull('deleted_at').orderBy('id');
  return rows.map(endpointDto);
}

export async function updateWebhook(
  ctx: BankContext,
  actor: Actor,
  id: number,
  patch: { url?: string; events?: string[]; active?: boolean },
  policy: WebhookPolicy,
) {
  requireCan(actor, 'webhooks.manage');
  const changes: Partial<EndpointRow> = {};
  if (patch.events !== undefined) changes.events = JSON.stringify(eventNames(patch.events));
  if (patch.url !== undefined) changes.url = await checkedUrl(patch.url, policy.allowPrivate);
  if (patch.active !== undefined) changes.active = patch.active;
  return withTx(ctx, async (t) => {
    const before = await findEndpoint(t.q, id);
    if (!Object.keys(changes).length) return endpointDto(before);
    await t
      .q('webhook_endpoints')
      .where({ id })
      .update({ ...changes, updated_at: t.now });
    const dto = endpointDto({ ...before, ...changes, updated_at: t.now });
    await audit(t, actor, { action: 'webhook.updated', entity: 'webhook', entityId: id, before: endpointDto(before), after: dto });
    return dto;
  });
}

/** Removes an endpoint: nothing more is sent to it; its delivery log stays for the audit trail. */
export async function deleteWebhook(ctx: BankContext, actor: Actor, id: number): Promise<void> {
  requireCan(actor, 'webhooks.manage');
  await withTx(ctx, async (t) => {
    const before = await findEndpoint(t.q, id);
    await t.q('webhook_endpoints').where({ id }).update({ deleted_at: t.now, active: false, updated_at: t.now });
    await t
      .q('webhook_deliveries')
      .where({ endpoint_id: id, status: 'pending' })
      .update({ status: 'failed', last_error: 'endpoint deleted', updated_at: t.now });
    await audit(t, actor, { action: 'webhook.deleted', entity: 'webhook', entityId: id, before: endpointDto(before) });
  });
}

/** An endpoint's deliveries, newest first. */
export async function listDeliveries(
  ctx: BankContext,
  actor: Actor,
  endpointId: number,
  f: { status?: DeliveryRow['status']; limit: number; cursor?: number | null },
) {
  requireCan(actor, 'webhooks.manage');
  await findEndpoint(ctx.db, endpointId);
  let q = ctx.db<DeliveryRow>('webhook_deliveries').where({ endpoint_id: endpointId });
  if (f.status) q = q.where({ status: f.status });
  if (f.cursor) q = q.where('id', '<', f.cursor);
  const rows = await q.orderBy('id', 'desc').limit(f.limit + 1);
  return toPage(rows.length, rows.slice(0, f.limit).map(deliveryDto), f.limit);
}

/** Sends a delivery again now (whatever became of it), with a fresh 24-hour retry window. */
export async function redeliver(ctx: BankContext, actor: Actor, endpointId: number, deliveryId: number) {
  requireCan(actor, 'webhooks.manage');
  return withTx(ctx, async (t) => {
    await findEndpoint(t.q, endpointId);
    const before: DeliveryRow | undefined = await t.q('webhook_deliveries').where({ id: deliveryId, endpoint_id: endpointId }).first();
    if (!before) throw new NotFound('Delivery');
    const changes = {
      status: 'pending' as const,
      next_attempt_at: t.now,
      locked_until: null,
      give_up_at: new Date(Date.parse(t.now) + RETRY_WINDOW_MS).toISOString(),
      updated_at: t.now,
    };
    await t.q('webhook_deliveries').where({ id: deliveryId }).update(changes);
    await audit(t, actor, {
      action: 'webhook.redeliver',
      entity: 'webhook',
      entityId: endpointId,
      before: deliveryDto(before),
      after: { deliveryId, status: 'pending' },
    });
    return deliveryDto({ ...before, ...changes });
  });
}

// ---- the outbox scan -------------------------------------------------------------------------

const CURSOR = 'webhooks:events';
const SCAN_BATCH = 500;
/**
 * PostgreSQL hands out seqs before commit, so an event may become visible after one with a
 * higher seq. The cursor never moves past events younger than this; they are scanned again
 * (the unique (endpoint, seq) key makes that harmless). SQLite commits in seq order.
 */
export const SCAN_SETTLE_MS = 30_000;

const isInternalNote = (e: OutboxEvent) =>
  e.type === 'ticket.message' && !!(e.data.message as { internal?: boolean } | undefined)?.internal;

/**
 * Turns newly committed events into pending deliveries for every active endpoint that
 * subscribes to them. One scan at a time (the cursor row is locked). Returns how many
 * deliveries it created.
 */
export async function enqueueDeliveries(ctx: BankContext): Promise<number> {
  // No endpoint, no scan (and no write lock taken on SQLite); endpoints start after their after_seq anyway.
  if (!(await ctx.db('webhook_endpoints').where({ active: true }).whereNull('deleted_at').first('id'))) return 0;
  return withTx(ctx, async (t) => {
    await t.q('job_cursors').insert({ name: CURSOR, position: 0, updated_at: t.now }).onConflict('name').ignore();
    let cq = t.q('job_cursors').where({ name: CURSOR });
    if (t.ctx.dialect === 'pg') cq = cq.forUpdate();
    const cursor = Number((await cq.first('position'))?.position ?? 0);
    const nowMs = Date.parse(t.now);
    const settled = t.ctx.dialect === 'pg' ? new Date(nowMs - SCAN_SETTLE_MS).toISOString() : null;
    const topQ = t.q('events').max({ m: 'seq' });
    if (settled) topQ.where('created_at', '<', settled);
    const settledTop = Math.max(cursor, Number((await topQ.first())?.m ?? 0));

    const endpoints: EndpointRow[] = await t.q('webhook_endpoints').where({ active: true }).whereNull('deleted_at');
    let created = 0;
    let next = settledTop;
    if (endpoints.length) {
      const subs = endpoints.map((e) => ({ e, events: new Set(fromJson<string[]>(e.events) ?? []) }));
      const all = subs.some((s) => s.events.has('*'));
      const types = [...new Set(subs.flatMap((s) => [...s.events]))];
      const from = Math.max(cursor, Math.min(...endpoints.map((e) => Number(e.after_seq))));
      let q = t.q<EventRow>('events').where('seq', '>', from);
      if (!all) q = q.whereIn('type', types);
      const rows = await q.orderBy('seq').limit(SCAN_BATCH).select('seq', 'type', 'payload', 'created_at');
      const events = await withRooms(t.q, rows);
      const giveUp = new Date(nowMs + RETRY_WINDOW_MS).toISOString();
      const inserts = events.flatMap((ev) =>
        isInternalNote(ev) || NOT_FOR_WEBHOOKS.has(ev.type)
          ? []
          : subs
              .filter((s) => (s.events.has('*') || s.events.has(ev.type)) && ev.seq > Number(s.e.after_seq))
              .map((s) => ({
                endpoint_id: s.e.id,
                seq: ev.seq,
                event: ev.type,
                status: 'pending',
                attempts: 0,
                next_attempt_at: t.now,
                give_up_at: giveUp,
                created_at: t.now,
                updated_at: t.now,
              })),
      );
      for (let i = 0; i < inserts.length; i += 200) {
        const res = await t
          .q('webhook_deliveries')
          .insert(inserts.slice(i, i + 200), ['id'])
          .onConflict(['endpoint_id', 'seq'])
          .ignore();
        created += Array.isArray(res) ? res.length : 0;
      }
      if (rows.length >= SCAN_BATCH) next = Math.min(next, Number(rows[rows.length - 1].seq));
    }
    if (next > cursor) await t.q('job_cursors').where({ name: CURSOR }).update({ position: next, updated_at: t.now });
    return created;
  });
}

// ---- the sender's side -------------------------------------------------------------------------

/** Deliveries waiting to be delivered, first try or retry (the bank_webhook_pending gauge). */
export async function pendingDeliveryCount(db: BankContext['db']): Promise<number> {
  const [{ n }] = await db('webhook_deliveries').where({ status: 'pending' }).count({ n: '*' });
  return Number(n);
}

export interface ClaimedDelivery {
  id: number;
  endpointId: number;
  url: string;
  secret: string;
  attempts: number;
  giveUpAt: string;
  event: OutboxEvent;
}

/** Active endpoints with due work, for the sender to serve each on its own. */
export async function endpointsWithDueWork(ctx: BankContext): Promise<number[]> {
  const now = new Date().toISOString();
  const rows = await ctx
    .db('webhook_deliveries as d')
    .join('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .where('d.status', 'pending')
    .where('d.next_attempt_at', '<=', now)
    .where('e.active', true)
    .whereNull('e.deleted_at')
    .where((w) => w.whereNull('d.locked_until').orWhere('d.locked_until', '<', now))
    .distinct('d.endpoint_id');
  return rows.map((r: { endpoint_id: number }) => Number(r.endpoint_id));
}

/**
 * Claims up to `limit` due deliveries of one endpoint, leasing them for `leaseMs` (a sender
 * that dies mid-send leaves them due again when the lease ends). Exclusive across processes.
 */
export async function claimDeliveries(ctx: BankContext, endpointId: number, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  if (limit <= 0) return [];
  const nowDate = new Date();
  const now = nowDate.toISOString();
  const until = new Date(nowDate.getTime() + leaseMs).toISOString();
  // withTx: on SQLite the write lock is taken first, waiting on timers (not the event loop).
  const claimed = await withTx(ctx, async ({ q }) => {
    const endpoint: EndpointRow | undefined = await q('webhook_endpoints')
      .where({ id: endpointId, active: true })
      .whereNull('deleted_at')
      .first();
    if (!endpoint) return null;
    let sel = q<DeliveryRow>('webhook_deliveries')
      .where({ endpoint_id: endpointId, status: 'pending' })
      .where('next_attempt_at', '<=', now)
      .where((w) => w.whereNull('locked_until').orWhere('locked_until', '<', now))
      .orderBy('id')
      .limit(limit);
    if (ctx.dialect === 'pg') sel = sel.forUpdate().skipLocked();
    const rows = await sel;
    if (rows.length)
      await q('webhook_deliveries')
        .whereIn(
          'id',
          rows.map((r) => r.id),
        )
        .update({ locked_until: until });
    return { endpoint, rows };
  });
  if (!claimed?.rows.length) return [];
  const events = new Map(
    (
      await loadEventRows(
        ctx,
        claimed.rows.map((r) => Number(r.seq)),
      )
    ).map((e) => [e.seq, e]),
  );
  return claimed.rows.map((r) => ({
    id: Number(r.id),
    endpointId,
    url: claimed.endpoint.url,
    secret: claimed.endpoint.secret,
    attempts: r.attempts,
    giveUpAt: r.give_up_at,
    event: events.get(Number(r.seq)) ?? { seq: Number(r.seq), type: r.event, data: {}, createdAt: r.created_at, rooms: [] },
  }));
}

async function loadEventRows(ctx: BankContext, seqs: number[]): Promise<OutboxEvent[]> {
  const rows = await ctx.db<EventRow>('events').whereIn('seq', seqs).select('seq', 'type', 'payload', 'created_at');
  return withRooms(ctx.db, rows);
}

/** The JSON body of a delivery: what the receiver signs over, byte for byte. */
export function deliveryBody(d: ClaimedDelivery): string {
  return JSON.stringify({ deliveryId: d.id, seq: d.event.seq, event: d.event.type, data: payloadOf(d.event), at: d.event.createdAt });
}

/** `X-Bank-Signature`: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>. */
export function signature(secret: string, body: string, unixSeconds: number): string {
  const mac = crypto.createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** Delay before attempt n+1 after n failures: base·2^(n-1), capped at an hour, with jitter (50–100 %). */
export function retryDelayMs(baseMs: number, failures: number, random = Math.random()): number {
  const full = Math.min(baseMs * 2 ** Math.max(0, failures - 1), RETRY_CAP_MS);
  return Math.round(full * (0.5 + random / 2));
}

export type AttemptOutcome = { ok: true; statusCode: number } | { ok: false; statusCode: number | null; error: string };

/** Records one attempt: delivered, due again later, or failed for good past its retry window. */
export async function recordAttempt(
  ctx: BankContext,
  d: ClaimedDelivery,
  outcome: AttemptOutcome,
  baseMs: number,
): Promise<'delivered' | 'retrying' | 'failed'> {
  const now = new Date();
  const attempts = d.attempts + 1;
  const common = { attempts, last_status_code: outcome.statusCode, locked_until: null, updated_at: now.toISOString() };
  if (outcome.ok) {
    await ctx
      .db('webhook_deliveries')
      .where({ id: d.id, status: 'pending' })
      .update({ ...common, status: 'delivered', last_error: null, delivered_at: now.toISOString(), next_attempt_at: null });
    return 'delivered';
  }
  const nextAt = new Date(now.getTime() + retryDelayMs(baseMs, attempts));
  const giveUp = nextAt.toISOString() > d.giveUpAt;
  await ctx
    .db('webhook_deliveries')
    .where({ id: d.id, status: 'pending' })
    .update({
      ...common,
      last_error: outcome.error.slice(0, 500),
      status: giveUp ? 'failed' : 'pending',
      next_attempt_at: giveUp ? null : nextAt.toISOString(),
    });
  return giveUp ? 'failed' : 'retrying';
}

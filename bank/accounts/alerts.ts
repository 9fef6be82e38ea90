import type { Actor, BankContext } from '../core/context.js';
import { Invalid, NotFound, RuleViolation } from '../core/errors.js';
import { audit } from '../audit/chain.js';
import { findVisibleAccount } from './operations.js';
import { displayAmount, formatAmount, maskedAccount, parseAmount, parseNonNegativeAmount } from '../core/money.js';
import { notifyCustomers, type NotificationText } from '../notifications/send.js';
import { requireCan } from '../access/permissions.js';
import { toPage } from '../core/paging.js';
import { type Tx, withTx } from '../core/db-tx.js';
import type { AccountRow } from './records.js';
import type { BalanceAlert, Entry, Row } from '../../db/models.js';

export const ALERT_KINDS = ['balance_below', 'balance_above', 'debit_over', 'credit_over'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
/** Alerts an account may have at once. */
export const ALERTS_PER_ACCOUNT = 20;

type AlertRow = Row<BalanceAlert>;

const alertDto = (r: AlertRow, currency: string) => ({
  id: r.id,
  accountId: r.account_id,
  kind: r.kind,
  threshold: formatAmount(Number(r.threshold), currency),
  active: !!r.active,
  lastTriggeredAt: r.last_triggered_at,
  createdAt: r.created_at,
});
export type AlertDto = ReturnType<typeof alertDto>;

export async function listAlerts(ctx: BankContext, actor: Actor, accountId: number, opts: { limit: number; cursor?: number | null }) {
  requireCan(actor, 'alerts.read');
  const a = await findVisibleAccount(ctx.db, actor, accountId);
  let q = ctx.db<AlertRow>('balance_alerts').where({ account_id: accountId });
  if (opts.cursor) q = q.where('id', '>', opts.cursor);
  const rows: AlertRow[] = await q.orderBy('id').limit(opts.limit + 1);
  return toPage(
    rows.length,
    rows.slice(0, opts.limit).map((r) => alertDto(r, a.currency)),
    opts.limit,
  );
}

export async function createAlert(
  ctx: BankContext,
  actor: Actor,
  accountId: number,
  input: { kind: AlertKind; threshold: string },
): Promise<AlertDto> {
  requireCan(actor, 'alerts.manage');
  return withTx(ctx, async (t) => {
    const a = await findVisibleAccount(t.q, actor, accountId);
    if (!ALERT_KINDS.includes(input.kind)) throw new Invalid('kind is not a known alert', { fields: ['kind'] });
    // A balance may be watched at zero; a single movement is "over" a positive amount.
    const threshold = input.kind.startsWith('balance_')
      ? parseNonNegativeAmount(input.threshold, a.currency)
      : parseAmount(input.threshold, a.currency);
    const [{ n }] = await t.q('balance_alerts').where({ account_id: accountId }).count({ n: '*' });
    if (Number(n) >= ALERTS_PER_ACCOUNT)
      throw new RuleViolation('limit_exceeded', `An account can have at most ${ALERTS_PER_ACCOUNT} alerts`);
    const row = {
      account_id: accountId,
      kind: input.kind,
      threshold,
      active: true,
      created_by: actor.userId,
      last_triggered_at: null,
      created_at: t.now,
    };
    const [ins] = await t.q('balance_alerts').insert(row, ['id']);
    await t.q('accounts').where({ id: accountId }).increment('alert_count', 1);
    const dto = alertDto({ id: Number(typeof ins === 'object' ? ins.id : ins), ...row }, a.currency);
    await audit(t, actor, { action: 'alert.created', entity: 'balance_alert', entityId: dto.id, after: dto });
    return dto;
  });
}

export async function deleteAlert(ctx: BankContext, actor: Actor, accountId: number, alertId: number): Promise<void> {
  requireCan(actor, 'alerts.manage');
  await withTx(ctx, async (t) => {
    const a = await findVisibleAccount(t.q, actor, accountId);
    const row: AlertRow | undefined = await t.q('balance_alerts').where({ id: alertId, account_id: accountId }).first();
    if (!row) throw new NotFound('Alert');
    await t.q('balance_alerts').where({ id: alertId }).delete();
    await t.q('accounts').where({ id: accountId }).decrement('alert_count', 1);
    await audit(t, actor, { action: 'alert.deleted', entity: 'balance_alert', entityId: alertId, before: alertDto(row, a.currency) });
  });
}

/** One posting as written to `entries`. */
export type PostedEntry = Pick<Row<Entry>, 'account_id' | 'amount' | 'balance_after'>;

function fires(alert: AlertRow, e: PostedEntry): boolean {
  const threshold = Number(alert.threshold);
  const after = Number(e.balance_after);
  const before = after - Number(e.amount);
  switch (alert.kind) {
    case 'balance_below':
      return before >= threshold && after < threshold;
    case 'balance_above':
      return before <= threshold && after > threshold;
    case 'debit_over':
      return e.amount < 0 && -e.amount > threshold;
    case 'credit_over':
      return e.amount > 0 && e.amount > threshold;
  }
}

const CHUNK = 400;

/**
 * Checks the postings just written against the accounts' alerts, in the same database
 * transaction: an alert is sent only if the posting commits, and never missed if it does.
 * A balance alert fires when a posting crosses its threshold (from at or above to below, or
 * from at or below to above), so staying below never repeats it; the next crossing does.
 * `posted` are the posted accounts as locked: those without alerts are not looked up, so
 * a posting where no account has an alert costs no query at all (and `written` may be a
 * function, called only then).
 */
export async function evaluateAlerts(
  t: Tx,
  written: PostedEntry[] | (() => PostedEntry[]),
  posted: Iterable<Pick<AccountRow, 'id' | 'alert_count'>>,
): Promise<void> {
  const watched = new Set<number>();
  for (const a of posted) if (Number(a.alert_count ?? 0) > 0) watched.add(a.id);
  if (!watched.size) return;
  const entries = (typeof written === 'function' ? written() : written).filter((e) => watched.has(e.account_id));
  const ids = [...new Set(entries.map((e) => e.account_id))];
  const alerts: AlertRow[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    alerts.push(
      ...(await t
        .q('balance_alerts')
        .whereIn('account_id', ids.slice(i, i + CHUNK))
        .andWhere({ active: true })),
    );
  }
  if (!alerts.length) return;
  const byAccount = new Map<number, AlertRow[]>();
  for (const a of alerts) byAccount.set(a.account_id, [...(byAccount.get(a.account_id) ?? []), a]);
  const accounts = new Map(
    (
      await t
        .q('accounts')
        .whereIn('id', [...byAccount.keys()])
        .select('id', 'number', 'currency', 'customer_id')
    ).map((a) => [a.id as number, a]),
  );
  const notes: ({ customerId: number | null } & NotificationText)[] = [];
  const triggered = new Set<number>();
  for (const e of entries) {
    for (const alert of byAccount.get(e.account_id) ?? []) {
      if (!fires(alert, e)) continue;
      const acct = accounts.get(e.account_id)!;
      triggered.add(alert.id);
      notes.push({ customerId: acct.customer_id, kind: 'alert', ...alertText(alert, e, acct.number, acct.currency) });
    }
  }
  if (!triggered.size) return;
  await t
    .q('balance_alerts')
    .whereIn('id', [...triggered])
    .update({ last_triggered_at: t.now });
  await notifyCustomers(t, notes);
}

function alertText(alert: AlertRow, e: PostedEntry, number: string, currency: string): { title: string; body: string } {
  const acct = maskedAccount(number);
  const th = displayAmount(Number(alert.threshold), currency);
  const bal = displayAmount(Number(e.balance_after), currency);
  const moved = displayAmount(Math.abs(Number(e.amount)), currency);
  switch (alert.kind) {
    case 'balance_below':
      return { title: 'Balance below your alert', body: `The balance of account ${acct} fell below ${th}: it is now ${bal}.` };
    case 'balance_above':
      return { title: 'Balance above your alert', body: `The balance of account ${acct} rose above ${th}: it is now ${bal}.` };
    case 'debit_over':
      return {
        title: 'Large payment out',
        body: `${moved} left account ${acct} (your alert is for more than ${th}). The balance is now ${bal}.`,
      };
    case 'credit_over':
      return {
        title: 'Large payment in',
        body: `${moved} arrived in account ${acct} (your alert is for more than ${th}). The balance is now ${bal}.`,
      };
  }
}

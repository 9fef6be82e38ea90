// Everyday banking in the client: payees and confirmation of payee, standing orders, balance
// alerts, freezes, reversals and PDF statements. The REST calls, one store for standing orders
// (kept fresh by `standing_order.updated`), and the words shown when something is refused.

import { defineStore } from 'pinia';
import { ref } from 'vue';
import { ApiError, asPage, buildUrl, request, requestFull } from './api';
import { useAccounts } from './stores/accounts';
import type { Account, Page, Transaction } from './types';

export interface Lookup {
  accountNumber: string;
  holderName: string;
  currency: string;
}

export interface Payee {
  id: number;
  accountNumber: string;
  nickname: string;
  holderName: string;
  createdAt: string;
}

export type Frequency = 'once' | 'daily' | 'weekly' | 'monthly';
export type OrderStatus = 'active' | 'paused' | 'cancelled' | 'completed';

export interface OrderRun {
  id?: number;
  date: string;
  status: 'posted' | 'pending_approval' | 'failed';
  transactionId: number | null;
  error: { code: string; message: string } | null;
}

export interface StandingOrder {
  id: number;
  fromAccountId: number;
  toAccountNumber: string;
  amount: string;
  currency?: string;
  memo: string;
  frequency: Frequency;
  startDate: string;
  endDate: string | null;
  nextRunDate: string | null;
  status: OrderStatus;
  lastRun: OrderRun | null;
  createdAt: string;
}

export type AlertKind = 'balance_below' | 'balance_above' | 'debit_over' | 'credit_over';

export interface BalanceAlert {
  id: number;
  accountId: number;
  kind: AlertKind;
  threshold: string;
  active: boolean;
  lastTriggeredAt: string | null;
  createdAt: string;
}

const enc = (n: number | string) => encodeURIComponent(String(n));

export const everyday = {
  lookup: (number: string) => request<Lookup>('GET', '/accounts/lookup', { query: { number } }),
  payees: async (): Promise<Payee[]> => asPage<Payee>(await request<unknown>('GET', '/payees', { query: { limit: 500 } })).items,
  addPayee: (accountNumber: string, nickname: string) => request<Payee>('POST', '/payees', { body: { accountNumber, nickname } }),
  deletePayee: (id: number) => request<void>('DELETE', `/payees/${enc(id)}`),

  freeze: (accountId: number, reason?: string) => request<Account>('POST', `/accounts/${enc(accountId)}/freeze`, { body: reason ? { reason } : {} }),
  unfreeze: (accountId: number) => request<Account>('POST', `/accounts/${enc(accountId)}/unfreeze`, { body: {} }),

  alerts: async (accountId: number): Promise<BalanceAlert[]> => asPage<BalanceAlert>(await request<unknown>('GET', `/accounts/${enc(accountId)}/alerts`, { query: { limit: 500 } })).items,
  addAlert: (accountId: number, kind: AlertKind, threshold: string) => request<BalanceAlert>('POST', `/accounts/${enc(accountId)}/alerts`, { body: { kind, threshold } }),
  deleteAlert: (accountId: number, alertId: number) => request<void>('DELETE', `/accounts/${enc(accountId)}/alerts/${enc(alertId)}`),

  orders: async (accountId?: number): Promise<StandingOrder[]> => asPage<StandingOrder>(await request<unknown>('GET', '/standing-orders', { query: { accountId, limit: 500 } })).items,
  order: (id: number) => request<StandingOrder>('GET', `/standing-orders/${enc(id)}`),
  createOrder: (input: { fromAccountId: number; toAccountNumber: string; amount: string; memo?: string; frequency: Frequency; startDate: string; endDate?: string | null }) =>
    request<StandingOrder>('POST', '/standing-orders', { body: input }),
  updateOrder: (id: number, changes: { status?: 'active' | 'paused' | 'cancelled'; amount?: string; endDate?: string | null }) =>
    request<StandingOrder>('PATCH', `/standing-orders/${enc(id)}`, { body: changes }),
  runs: async (id: number): Promise<Page<OrderRun>> => asPage<OrderRun>(await request<unknown>('GET', `/standing-orders/${enc(id)}/runs`, { query: { limit: 100 } })),

  reverse: (txId: number, reason: string) => requestFull<Transaction>('POST', `/transactions/${enc(txId)}/reverse`, { body: { reason } }),
  pdfUrl: (accountId: number, query: { from?: string; to?: string }) => buildUrl(`/accounts/${enc(accountId)}/statement`, { format: 'pdf', ...query }),
};

/** What to tell a person when the bank refuses: plain words, never the server's own message. */
const PLAIN: Record<string, string> = {
  not_found: 'We could not find that. It may have been removed, or the number may be wrong.',
  rate_limited: 'Too many checks in a short time. Please wait a minute and try again.',
  insufficient_funds: 'There is not enough money in the account for this.',
  account_frozen: 'This account is frozen, so no money can leave it.',
  account_closed: 'This account is closed.',
  currency_mismatch: 'Both accounts must use the same currency.',
  same_account: 'Choose a different account to pay to.',
  invalid_amount: 'Enter a positive amount, like 1250.50.',
  invalid_request: 'Some details are missing or not valid. Please check the form.',
  forbidden: 'You are not allowed to do this.',
  conflict: 'This cannot be changed in its current state. Reload the page to see the latest.',
  already_reversed: 'This transaction has already been reversed, or a reversal is waiting for approval.',
  limit_exceeded: 'You have reached the limit for this.',
  network_error: 'Could not reach the bank. Check your connection and try again.',
  unauthenticated: 'Your session has ended. Please sign in again.',
};

export function plainError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'invalid_request' && err.details && typeof err.details === 'object') {
      const fields = (err.details as { fields?: unknown }).fields;
      if (Array.isArray(fields) && fields.includes('startDate')) return 'The first payment date cannot be in the past.';
      if (Array.isArray(fields) && fields.includes('endDate')) return 'The last payment date must be on or after the first.';
    }
    return PLAIN[err.code] ?? 'Something went wrong. Please try again.';
  }
  return 'Something went wrong. Please try again.';
}

/** The bank's calendar is UTC: a scheduled payment's dates are UTC days. */
export const bankToday = () => new Date().toISOString().slice(0, 10);

export const FREQUENCY_WORDS: Record<Frequency, string> = { once: 'Once', daily: 'Every day', weekly: 'Every week', monthly: 'Every month' };
export const ALERT_WORDS: Record<AlertKind, string> = {
  balance_below: 'Balance falls below',
  balance_above: 'Balance rises above',
  debit_over: 'A payment out is more than',
  credit_over: 'A payment in is more than',
};

/** Standing orders by id, fed by the REST lists and the live `standing_order.updated`. */
export const useStandingOrders = defineStore('standingOrders', () => {
  const byId = ref<Record<number, StandingOrder>>({});
  /** Bumped on every live update of an order: open run histories reload. */
  const revision = ref<Record<number, number>>({});

  function apply(o: StandingOrder) {
    byId.value[o.id] = { ...(byId.value[o.id] ?? {}), ...o };
    revision.value[o.id] = (revision.value[o.id] ?? 0) + 1;
  }

  async function loadForAccount(accountId: number): Promise<StandingOrder[]> {
    const list = await everyday.orders(accountId);
    list.forEach(apply);
    return list;
  }

  const forAccount = (accountId: number) => Object.values(byId.value).filter((o) => o.fromAccountId === accountId).sort((a, b) => b.id - a.id);

  function clear() {
    byId.value = {};
    revision.value = {};
  }

  return { byId, revision, apply, loadForAccount, forAccount, clear };
});

/** Server events this module understands (added to the socket's list). */
export const EVERYDAY_EVENTS = ['account.updated', 'standing_order.updated', 'transaction.reversed'] as const;

/** Applies one of EVERYDAY_EVENTS to the stores. */
export function applyEverydayEvent(event: string, data: Record<string, unknown>): void {
  if (event === 'account.updated') {
    const account = data.account as Account | undefined;
    if (!account) return;
    const accounts = useAccounts();
    // Only accounts already on screen are refreshed; the list loads the rest.
    if (accounts.byId[account.id]) accounts.upsert(account);
  } else if (event === 'standing_order.updated') {
    const order = data.standingOrder as StandingOrder | undefined;
    if (order) useStandingOrders().apply(order);
  } else if (event === 'transaction.reversed') {
    const t = data.transaction as Transaction | undefined;
    if (t) useAccounts().touchByNumber(t.fromAccountNumber, t.toAccountNumber);
  }
}

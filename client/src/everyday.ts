// Everyday banking in the client: payees and confirmation of payee, standing orders, balance
// alerts, freezes, reversals and PDF statements. The REST calls, one store for standing orders
// (kept fresh by `standing_order.updated`), and the words shown when something is refused.

import { defineStore } from 'pinia';
import type { StandingOrderInput } from '../../shared/api';
import { ref } from 'vue';
import { asPage, buildUrl, request, requestFull } from './api';
import { errorMessage } from './errors';
import { onServerEvent } from './events';
import type { StandingOrderPayload, StandingOrderRunPayload } from '../../shared/events';
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

// A standing order and its runs are what the server sends (REST and `standing_order.updated`): one definition.
export type StandingOrder = StandingOrderPayload;
export type OrderRun = StandingOrderRunPayload;
export type Frequency = StandingOrder['frequency'];
export type OrderStatus = StandingOrder['status'];

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

  freeze: (accountId: number, reason?: string) =>
    request<Account>('POST', `/accounts/${enc(accountId)}/freeze`, { body: reason ? { reason } : {} }),
  unfreeze: (accountId: number) => request<Account>('POST', `/accounts/${enc(accountId)}/unfreeze`, { body: {} }),

  alerts: async (accountId: number): Promise<BalanceAlert[]> =>
    asPage<BalanceAlert>(await request<unknown>('GET', `/accounts/${enc(accountId)}/alerts`, { query: { limit: 500 } })).items,
  addAlert: (accountId: number, kind: AlertKind, threshold: string) =>
    request<BalanceAlert>('POST', `/accounts/${enc(accountId)}/alerts`, { body: { kind, threshold } }),
  deleteAlert: (accountId: number, alertId: number) => request<void>('DELETE', `/accounts/${enc(accountId)}/alerts/${enc(alertId)}`),

  orders: async (accountId?: number): Promise<StandingOrder[]> =>
    asPage<StandingOrder>(await request<unknown>('GET', '/standing-orders', { query: { accountId, limit: 500 } })).items,
  order: (id: number) => request<StandingOrder>('GET', `/standing-orders/${enc(id)}`),
  createOrder: (input: StandingOrderInput) => request<StandingOrder>('POST', '/standing-orders', { body: input }),
  updateOrder: (id: number, changes: { status?: 'active' | 'paused' | 'cancelled'; amount?: string; endDate?: string | null }) =>
    request<StandingOrder>('PATCH', `/standing-orders/${enc(id)}`, { body: changes }),
  runs: async (id: number): Promise<Page<OrderRun>> =>
    asPage<OrderRun>(await request<unknown>('GET', `/standing-orders/${enc(id)}/runs`, { query: { limit: 100 } })),

  reverse: (txId: number, reason: string) => requestFull<Transaction>('POST', `/transactions/${enc(txId)}/reverse`, { body: { reason } }),
  pdfUrl: (accountId: number, query: { from?: string; to?: string }) =>
    buildUrl(`/accounts/${enc(accountId)}/statement`, { format: 'pdf', ...query }),
};

/** What to tell a person when the bank refuses: plain words (the one wording, errors.ts), never the server's own message. */
export function plainError(err: unknown): string {
  return errorMessage(err);
}

/** The bank's calendar is UTC: a scheduled payment's dates are UTC days. */
export const bankToday = () => new Date().toISOString().slice(0, 10);

export const FREQUENCY_WORDS: Record<Frequency, string> = {
  once: 'Once',
  daily: 'Every day',
  weekly: 'Every week',
  monthly: 'Every month',
};
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

  const forAccount = (accountId: number) =>
    Object.values(byId.value)
      .filter((o) => o.fromAccountId === accountId)
      .sort((a, b) => b.id - a.id);

  function clear() {
    byId.value = {};
    revision.value = {};
  }

  onServerEvent('standing_order.updated', (e) => apply(e.standingOrder));

  return { byId, revision, apply, loadForAccount, forAccount, clear };
});

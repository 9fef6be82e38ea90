import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import * as api from '../api';
import type { Account, BalanceUpdated } from '../types';
import { markSurfaced, onServerEvent, type ServerEvent } from '../events';
import { formatMoney } from '../money';
import { useSession } from './session';
import { useToasts } from './toasts';

const FLASH_MS = 1800;

/**
 * One cache of accounts by id, shared by the customer's list, account pages and the staff desk,
 * so a `balance.updated` changes the figure wherever it is shown.
 */
export const useAccounts = defineStore('accounts', () => {
  const byId = ref<Record<number, Account>>({});
  const mineIds = ref<number[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<unknown>(null);
  /** Which figures changed recently, for a brief highlight. */
  const flash = ref<Record<number, { balance?: boolean; available?: boolean }>>({});
  /** Bumped whenever money moved on an account: open views reload their entries. */
  const revision = ref<Record<number, number>>({});

  const mine = computed(() => mineIds.value.map((id) => byId.value[id]).filter((a): a is Account => !!a));

  function upsert(account: Account): Account {
    const existing = byId.value[account.id];
    if (existing) Object.assign(existing, account);
    else byId.value[account.id] = { ...account };
    return byId.value[account.id];
  }

  function byNumber(number: string | null | undefined): Account | undefined {
    if (!number) return undefined;
    return Object.values(byId.value).find((a) => a.number === number);
  }

  async function loadMine() {
    loading.value = true;
    error.value = null;
    try {
      const list = await api.accounts.list();
      list.forEach(upsert);
      mineIds.value = list.map((a) => a.id);
      loaded.value = true;
    } catch (err) {
      error.value = err;
    } finally {
      loading.value = false;
    }
  }

  async function fetch(id: number): Promise<Account> {
    return upsert(await api.accounts.get(id));
  }

  async function loadForCustomer(customerId: number): Promise<Account[]> {
    const list = await api.accounts.list({ customerId });
    return list.map(upsert);
  }

  function bump(id: number) {
    revision.value[id] = (revision.value[id] ?? 0) + 1;
  }

  function highlight(id: number, fields: { balance?: boolean; available?: boolean }) {
    flash.value[id] = { ...flash.value[id], ...fields };
    setTimeout(() => {
      delete flash.value[id];
    }, FLASH_MS);
  }

  let reloadTimer: ReturnType<typeof setTimeout> | null = null;

  /** balance.updated: set the figures the server says (absolute values, so applying twice is harmless). */
  function applyBalance(e: BalanceUpdated, isCustomer: boolean, highlightChange = true) {
    const account = byId.value[e.accountId] ?? byNumber(e.accountNumber);
    if (!account) {
      // An account we have not listed yet (just opened for this customer): refresh the list.
      if (isCustomer && loaded.value && !reloadTimer) {
        reloadTimer = setTimeout(() => {
          reloadTimer = null;
          void loadMine();
        }, 300);
      }
      return;
    }
    const changed = {
      balance: typeof e.balance === 'string' && e.balance !== account.balance,
      available: typeof e.availableBalance === 'string' && e.availableBalance !== account.availableBalance,
    };
    if (typeof e.balance === 'string') account.balance = e.balance;
    if (typeof e.availableBalance === 'string') account.availableBalance = e.availableBalance;
    if (highlightChange && (changed.balance || changed.available)) highlight(account.id, changed);
    bump(account.id);
  }

  function touchByNumber(...numbers: Array<string | null | undefined>) {
    for (const n of numbers) {
      const a = byNumber(n);
      if (a) bump(a.id);
    }
  }

  function clear() {
    byId.value = {};
    mineIds.value = [];
    loaded.value = false;
    error.value = null;
    flash.value = {};
    revision.value = {};
  }

  // ---- live: the events about money this store owns ----
  onServerEvent('balance.updated', (e, ctx) => applyBalance(e, useSession().isCustomer, !(ctx.replayed && ctx.firstSync)));
  onServerEvent('transaction.posted', (e, ctx) => {
    touchByNumber(e.transaction.fromAccountNumber, e.transaction.toAccountNumber);
    if (!ctx.replayed && useSession().isCustomer) announceArrival(e.transaction);
  });
  for (const name of ['transaction.pending', 'transaction.approved', 'transaction.rejected', 'transaction.cancelled'] as const) {
    onServerEvent(name, (e, ctx) => {
      touchByNumber(e.transaction.fromAccountNumber, e.transaction.toAccountNumber);
      if (!ctx.replayed && useSession().isCustomer && (name === 'transaction.approved' || name === 'transaction.rejected'))
        announceDecision(name, e.transaction);
    });
  }

  onServerEvent('account.updated', (e) => {
    const a = e.account;
    // Only accounts already on screen are refreshed; the list loads the rest. Events name customers' accounts only.
    if (!byId.value[a.id] || a.customerId === null || a.type === null || a.branch === null) return;
    upsert({ ...a, customerId: a.customerId, type: a.type, branch: a.branch });
  });
  onServerEvent('transaction.reversed', (e) => touchByNumber(e.transaction.fromAccountNumber, e.transaction.toAccountNumber));

  /** "You received ₹500.00." for money arriving in one of the customer's accounts. */
  function announceArrival(t: ServerEvent<'transaction.posted'>['transaction']) {
    const amount = formatMoney(t.amount, t.currency);
    const incoming = byNumber(t.toAccountNumber);
    const outgoing = byNumber(t.fromAccountNumber);
    let text: string | null = null;
    if (t.kind === 'transfer' && incoming && !outgoing) text = `You received ${amount}.`;
    else if (t.kind === 'deposit' && incoming) text = `${amount} was deposited.`;
    else if (t.kind === 'interest' && incoming) text = `Interest of ${amount} was credited.`;
    if (text) {
      useToasts().push(text, 'success');
      markSurfaced('money');
    }
  }

  /** Both parties hear of a decision: only the sender asked for it; the payee just gets money. */
  function announceDecision(name: 'transaction.approved' | 'transaction.rejected', t: ServerEvent<'transaction.approved'>['transaction']) {
    const amount = formatMoney(t.amount, t.currency);
    const sender = !!byNumber(t.fromAccountNumber);
    const payee = !!byNumber(t.toAccountNumber);
    const toast = useToasts();
    if (name === 'transaction.approved') {
      if (payee && !sender) toast.push(`You received ${amount}.`, 'success');
      else toast.push(`${sender ? 'Your' : 'A'} ${t.kind} of ${amount} was approved.`, 'success');
    } else if (sender || !payee) {
      toast.push(`${sender ? 'Your' : 'A'} ${t.kind} of ${amount} was not approved; the held money is available again.`, 'warn');
    }
    markSurfaced('money');
  }

  return {
    byId,
    mineIds,
    mine,
    loaded,
    loading,
    error,
    flash,
    revision,
    upsert,
    byNumber,
    loadMine,
    fetch,
    loadForCustomer,
    applyBalance,
    touchByNumber,
    clear,
  };
});

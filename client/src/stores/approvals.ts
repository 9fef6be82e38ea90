import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import * as api from '../api';
import type { Transaction } from '../types';
import { onServerEvent } from '../events';
import { formatMoney } from '../money';
import { href, route } from '../router';
import { useSession } from './session';
import { useToasts } from './toasts';

/** The queue may list transactions or records wrapping one; normalise to the transaction. */
export function toTransaction(item: api.ApprovalItem): api.ApprovalItem {
  if (item.transaction && typeof item.transaction === 'object') return { ...item.transaction, from: item.from, to: item.to };
  const id = typeof item.transactionId === 'number' ? item.transactionId : item.id;
  return { ...item, id, status: item.status ?? 'pending_approval' };
}

export const useApprovals = defineStore('approvals', () => {
  const byId = ref<Record<number, api.ApprovalItem>>({});
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<unknown>(null);
  /** Transactions decided here or elsewhere while the page is open, to show briefly. */
  const decided = ref<Record<number, 'approved' | 'rejected' | 'cancelled'>>({});

  const pending = computed(() =>
    Object.values(byId.value)
      .filter((t) => t.status === 'pending_approval')
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
  );

  async function load() {
    loading.value = true;
    error.value = null;
    try {
      const list = await api.approvals.list('pending');
      const next: Record<number, api.ApprovalItem> = {};
      for (const item of list) {
        const t = toTransaction(item);
        next[t.id] = t;
      }
      byId.value = next;
      loaded.value = true;
    } catch (err) {
      error.value = err;
    } finally {
      loading.value = false;
    }
  }

  function apply(event: 'pending' | 'approved' | 'rejected' | 'cancelled', t: Transaction | undefined) {
    if (!t || typeof t.id !== 'number') return;
    if (event === 'pending') {
      if (decided.value[t.id]) return;
      byId.value[t.id] = { ...byId.value[t.id], ...t, status: 'pending_approval' };
      // The live event carries account numbers only: the queue answers with names and balances.
      if (loaded.value && !byId.value[t.id].from) scheduleReload();
      return;
    }
    decided.value[t.id] = event;
    delete byId.value[t.id];
  }

  let reloadTimer: ReturnType<typeof setTimeout> | null = null;
  function scheduleReload() {
    if (reloadTimer) return;
    reloadTimer = setTimeout(() => {
      reloadTimer = null;
      void load();
    }, 300);
  }

  async function decide(id: number, decision: 'approve' | 'reject', note?: string) {
    const t = decision === 'approve' ? await api.approvals.approve(id, note) : await api.approvals.reject(id, note);
    apply(decision === 'approve' ? 'approved' : 'rejected', t ?? byId.value[id]);
    return t;
  }

  function clear() {
    byId.value = {};
    decided.value = {};
    loaded.value = false;
    error.value = null;
  }

  // ---- live: the manager's queue ----
  for (const name of ['transaction.pending', 'transaction.approved', 'transaction.rejected', 'transaction.cancelled'] as const) {
    onServerEvent(name, (e, ctx) => {
      const kind = name.slice('transaction.'.length) as 'pending' | 'approved' | 'rejected' | 'cancelled';
      apply(kind, e.transaction);
      if (!ctx.replayed && kind === 'pending' && useSession().atLeast('manager') && route.value.name !== 'staff-approvals') {
        useToasts().push(`${formatMoney(e.transaction.amount, e.transaction.currency)} ${e.transaction.kind} awaits approval.`, 'info', {
          href: href('/staff/approvals'),
        });
      }
    });
  }

  return { byId, pending, loaded, loading, error, decided, load, apply, decide, clear };
});

import { computed, onBeforeUnmount, ref, watch, type Ref } from 'vue';
import * as api from './api';
import { useConfirmAction } from './confirm';
import { groupAccountNumber } from './format';
import { unwatchTicket, watchTicket } from './live';
import { formatMoney } from './money';
import { groupNotifications, type NoticeGroup } from './notices';
import { useAccounts } from './stores/accounts';
import { isRead, useNotifications } from './stores/notifications';
import { useSession } from './stores/session';
import { useToasts } from './stores/toasts';
import type { Transaction } from './types';

/** Runs one async action at a time, keeping `busy` (to disable the submit) and the last `error`. */
export function useAction() {
  const busy = ref(false);
  const error = ref<unknown>(null);

  async function run(fn: () => Promise<unknown>): Promise<boolean> {
    if (busy.value) return false;
    busy.value = true;
    error.value = null;
    try {
      await fn();
      return true;
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') return false;
      error.value = err;
      return false;
    } finally {
      busy.value = false;
    }
  }

  return { busy, error, run };
}

/** Watches the ticket on the hub while the component shows it (and re-targets when the id changes). */
export function useTicketWatch(ticketId: Ref<number | null>) {
  // Remember what we watch: at unmount the route (and so `ticketId`) may already point elsewhere.
  let current: number | null = null;
  watch(
    ticketId,
    (next) => {
      if (next === current) return;
      if (current !== null) unwatchTicket(current);
      current = next;
      if (next !== null) watchTicket(next);
    },
    { immediate: true },
  );
  onBeforeUnmount(() => {
    if (current !== null) unwatchTicket(current);
    current = null;
  });
}

/**
 * Cancel one's own transfer that waits for approval: asks first (what, to whom, how much),
 * then releases the hold. Resolves to the cancelled transaction, or null if not confirmed.
 */
export function useCancelTransfer() {
  const confirmAction = useConfirmAction();
  const toasts = useToasts();
  const { busy, error, run } = useAction();

  async function cancel(tx: Transaction): Promise<Transaction | null> {
    const amount = formatMoney(tx.amount, tx.currency);
    const ok = await confirmAction({
      header: 'Cancel this transfer?',
      message: `${amount} to account ${groupAccountNumber(tx.toAccountNumber)} will not be sent, and the held money becomes available again.`,
      accept: 'Cancel the transfer',
      danger: true,
    });
    if (!ok) return null;
    let done: Transaction | null = null;
    await run(async () => {
      done = await api.money.cancel(tx.id);
      toasts.push(`Transfer of ${amount} cancelled; the money is available again.`, 'success');
    });
    return done;
  }

  return { cancel, busy, error };
}

/** The signed-in person's notifications, grouped and linked; reading a group reads all of it. */
export function useNoticeGroups() {
  const notifications = useNotifications();
  const session = useSession();
  const accounts = useAccounts();
  const groups = computed(() =>
    groupNotifications(notifications.items, {
      staff: session.isStaff,
      accounts: Object.values(accounts.byId).map((a) => ({ id: a.id, number: a.number })),
    }),
  );
  async function readGroup(g: NoticeGroup) {
    for (const n of g.items) if (!isRead(n)) await notifications.markRead(n.id);
  }
  return { groups, readGroup };
}

/** A list read page by page (newest first): the first page, then "Show older". */
export function usePagedList<T>(fetchPage: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>) {
  const items = ref<T[]>([]) as Ref<T[]>;
  const next = ref<string | null>(null);
  const error = ref<unknown>(null);
  const busy = ref(false);
  async function load(more = false) {
    busy.value = true;
    error.value = null;
    try {
      const page = await fetchPage(more ? next.value : null);
      items.value = more ? [...items.value, ...page.items] : page.items;
      next.value = page.nextCursor;
    } catch (err) {
      error.value = err;
    } finally {
      busy.value = false;
    }
  }
  return { items, next, error, busy, load };
}

import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import * as api from '../api';
import type { Notification, NotificationEvent } from '../types';
import { onServerEvent, recentlySurfaced } from '../events';
import { useToasts } from './toasts';

export function isRead(n: Notification): boolean {
  return n.read === true || !!n.readAt;
}

/** Notifications whose news another event of the same commit already showed (see events.ts). */
const NOTIFICATION_FAMILY: Record<string, string> = {
  deposit: 'money',
  transfer_received: 'money',
  interest: 'money',
  'transaction.approved': 'money',
  'transaction.rejected': 'money',
  ticket_reply: 'ticket-message',
  ticket_customer_reply: 'ticket-message',
};

export const useNotifications = defineStore('notifications', () => {
  const items = ref<Notification[]>([]);
  const loaded = ref(false);
  const error = ref<unknown>(null);

  const unread = computed(() => items.value.filter((n) => !isRead(n)).length);

  async function load() {
    error.value = null;
    try {
      const page = await api.notifications.list();
      // Keep anything that arrived live while the list was loading.
      const known = new Set(page.items.map((n) => n.id));
      const maxId = page.items.reduce((m, n) => Math.max(m, n.id), 0);
      const extra = items.value.filter((n) => !known.has(n.id) && n.id > maxId);
      items.value = [...extra, ...page.items];
      loaded.value = true;
    } catch (err) {
      error.value = err;
    }
  }

  /**
   * A `notification` event. A replayed one the list does not hold is added only when it is newer
   * than everything the list was loaded with; older ones are history the list already accounts for.
   */
  function apply(e: NotificationEvent, replayed: boolean): boolean {
    if (typeof e.id !== 'number' || items.value.some((n) => n.id === e.id)) return false;
    if (replayed && loaded.value && items.value.some((n) => n.id > e.id)) return false;
    items.value = [{ id: e.id, kind: e.kind, title: e.title, body: e.body, read: false, at: e.at }, ...items.value];
    return true;
  }

  async function markRead(id: number) {
    const n = items.value.find((x) => x.id === id);
    if (!n || isRead(n)) return;
    await api.notifications.markRead(id);
    n.read = true;
    n.readAt = n.readAt ?? new Date().toISOString();
  }

  async function markAllRead() {
    for (const n of items.value.filter((x) => !isRead(x))) await markRead(n.id);
  }

  function clear() {
    items.value = [];
    loaded.value = false;
    error.value = null;
  }

  // ---- live: a notification adds to the bell, and toasts unless its news is already on screen ----
  onServerEvent('notification', (e, ctx) => {
    const added = apply(e, ctx.replayed);
    if (added && !ctx.replayed && !recentlySurfaced(NOTIFICATION_FAMILY[e.kind])) useToasts().push(e.title || 'New notification', 'info');
  });

  return { items, loaded, error, unread, load, apply, markRead, markAllRead, clear };
});

import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import * as api from '../api';
import type { Announcement } from '../types';
import { readStorage, writeStorage } from '../storage';
import { onServerEvent } from '../events';

const DISMISSED_KEY = 'bank.dismissedAnnouncements';

export const useAnnouncements = defineStore('announcements', () => {
  const byId = ref<Record<number, Announcement>>({});
  const error = ref<unknown>(null);
  // Kept in this browser (not just this tab's session): a dismissed notice stays dismissed.
  const dismissed = ref<number[]>(parseIds(readStorage('local', DISMISSED_KEY)));
  const now = ref(Date.now());
  setInterval(() => (now.value = Date.now()), 60_000);

  const all = computed(() =>
    Object.values(byId.value).sort((a, b) => (b.publishedAt ?? b.createdAt).localeCompare(a.publishedAt ?? a.createdAt)),
  );

  /** Active, not expired, not dismissed in this browser; newest first. */
  const visible = computed(() =>
    all.value.filter(
      (a) =>
        a.active !== false &&
        (!a.expiresAt || new Date(a.expiresAt).getTime() > now.value) &&
        (!a.publishedAt || new Date(a.publishedAt).getTime() <= now.value + 60_000) &&
        !dismissed.value.includes(a.id),
    ),
  );

  async function load() {
    error.value = null;
    try {
      const list = await api.announcements.list();
      const next: Record<number, Announcement> = {};
      for (const a of list) next[a.id] = a;
      byId.value = next;
    } catch (err) {
      error.value = err;
    }
  }

  function upsert(a: Announcement) {
    byId.value[a.id] = { ...byId.value[a.id], ...a };
  }

  function apply(event: 'published' | 'updated' | 'withdrawn', a: Announcement | undefined) {
    if (!a || typeof a.id !== 'number') return;
    if (event === 'withdrawn') {
      if (byId.value[a.id]) byId.value[a.id] = { ...byId.value[a.id], ...a, active: false };
      return;
    }
    upsert(a);
  }

  /** Drop one the signed-in user no longer belongs to the audience of. */
  function forget(id: number) {
    delete byId.value[id];
  }

  function dismiss(id: number) {
    if (!dismissed.value.includes(id)) dismissed.value = [...dismissed.value, id];
    writeStorage('local', DISMISSED_KEY, JSON.stringify(dismissed.value.slice(-200)));
  }

  function clear() {
    byId.value = {};
    error.value = null;
  }

  // ---- live ----
  onServerEvent('announcement.published', (e) => apply('published', e.announcement));
  onServerEvent('announcement.updated', (e) => apply('updated', e.announcement));
  onServerEvent('announcement.withdrawn', (e) => apply('withdrawn', e.announcement));

  return { byId, all, visible, error, load, upsert, apply, forget, dismiss, clear };
});

function parseIds(raw: string | null): number[] {
  try {
    const v = JSON.parse(raw ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
  } catch {
    return [];
  }
}

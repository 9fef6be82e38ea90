import { defineStore } from 'pinia';
import { ref } from 'vue';

/** offline: signed out or stopped; connecting: first attempt; syncing: connected, catching up; live; reconnecting. */
export type LinkState = 'offline' | 'connecting' | 'syncing' | 'live' | 'reconnecting';

export const useConnection = defineStore('connection', () => {
  const state = ref<LinkState>('offline');
  const lastSeq = ref(0);
  const lastError = ref<string | null>(null);
  const since = ref<number | null>(null);

  function set(next: LinkState, error: string | null = null) {
    state.value = next;
    lastError.value = error;
    if (next === 'live') since.value = Date.now();
  }

  function clear() {
    set('offline');
    lastSeq.value = 0;
    since.value = null;
  }

  return { state, lastSeq, lastError, since, set, clear };
});

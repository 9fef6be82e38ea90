import { onBeforeUnmount, ref, watch, type Ref } from 'vue';
import { unwatchTicket, watchTicket } from './live';

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

import { defineStore } from 'pinia';
import { ref } from 'vue';

export type ToastKind = 'info' | 'success' | 'warn' | 'error';

export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
  href?: string;
}

let next = 1;

export const useToasts = defineStore('toasts', () => {
  const items = ref<Toast[]>([]);

  function push(text: string, kind: ToastKind = 'info', opts: { href?: string; ms?: number } = {}) {
    const toast: Toast = { id: next++, kind, text, href: opts.href };
    items.value = [...items.value.slice(-4), toast];
    setTimeout(() => dismiss(toast.id), opts.ms ?? (kind === 'error' ? 9000 : 6000));
  }

  function dismiss(id: number) {
    items.value = items.value.filter((t) => t.id !== id);
  }

  function clear() {
    items.value = [];
  }

  return { items, push, dismiss, clear };
});

// Asking before something that moves money or power: one promise-returning helper over
// PrimeVue's ConfirmDialog (rendered once, in App.vue).

import { useConfirm } from 'primevue/useconfirm';

export interface ConfirmText {
  header: string;
  /** Who and what is affected, in a sentence or two. */
  message: string;
  accept: string;
  /** Red button: something hard to undo. */
  danger?: boolean;
}

export function useConfirmAction(): (text: ConfirmText) => Promise<boolean> {
  const confirm = useConfirm();
  return (text) =>
    new Promise<boolean>((resolve) => {
      confirm.require({
        header: text.header,
        message: text.message,
        acceptLabel: text.accept,
        rejectLabel: 'Cancel',
        defaultFocus: 'reject',
        acceptProps: { 'data-testid': 'confirm-accept', class: text.danger ? 'btn btn-danger' : 'btn btn-primary', unstyled: true },
        rejectProps: { 'data-testid': 'confirm-cancel', class: 'btn', unstyled: true },
        accept: () => resolve(true),
        reject: () => resolve(false),
        onHide: () => resolve(false),
      });
    });
}

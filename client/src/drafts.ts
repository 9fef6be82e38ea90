// Half-typed forms kept per user in this tab (sessionStorage), so a sign-out for inactivity
// does not lose them: after signing in again the form comes back as it was.

import { readStorage, writeStorage } from './storage';

const key = (userId: number, name: string) => `bank.draft.${userId}.${name}`;

export function loadDraft<T extends object>(userId: number | undefined, name: string): Partial<T> | null {
  if (userId === undefined) return null;
  try {
    const v = JSON.parse(readStorage('session', key(userId, name)) ?? 'null');
    return v && typeof v === 'object' ? (v as Partial<T>) : null;
  } catch {
    return null;
  }
}

/** Saves the draft, or forgets it when every field is empty. */
export function saveDraft(userId: number | undefined, name: string, value: Record<string, unknown> | null): void {
  if (userId === undefined) return;
  const empty = !value || Object.values(value).every((v) => v === '' || v === null || v === undefined);
  writeStorage('session', key(userId, name), empty ? null : JSON.stringify(value));
}

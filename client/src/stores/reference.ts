import { defineStore } from 'pinia';
import { ref } from 'vue';
import { customers, reference } from '../api';
import type { AccountType, Branch } from '../types';

/** Branches and account types: loaded once per session, on demand. */
export const useReference = defineStore('reference', () => {
  const branches = ref<Branch[]>([]);
  const accountTypes = ref<AccountType[]>([]);
  let loading: Promise<void> | null = null;
  /** Staff screens name customers by id (tickets carry only customerId): names fetched once each. */
  const customerNames = ref<Record<number, string>>({});
  const asked = new Set<number>();

  function ensure(): Promise<void> {
    if (!loading) {
      loading = Promise.all([reference.branches(), reference.accountTypes()])
        .then(([b, t]) => {
          branches.value = b;
          accountTypes.value = t;
        })
        .catch((err) => {
          loading = null;
          throw err;
        });
    }
    return loading;
  }

  function typeName(code: string): string {
    return accountTypes.value.find((t) => t.code === code)?.name ?? code;
  }

  function branchName(code: string): string {
    const b = branches.value.find((x) => x.code === code);
    return b ? `${b.name}` : code;
  }

  /** "Asha Verma", or "Customer #3" until (or unless) the name arrives. */
  function customerName(id: number | null | undefined): string {
    if (typeof id !== 'number') return '—';
    const known = customerNames.value[id];
    if (known) return known;
    if (!asked.has(id)) {
      asked.add(id);
      customers
        .get(id)
        .then((c) => (customerNames.value[id] = `${c.firstName} ${c.lastName}`.trim() || `Customer #${id}`))
        .catch(() => undefined);
    }
    return `Customer #${id}`;
  }

  function clear() {
    branches.value = [];
    accountTypes.value = [];
    loading = null;
    customerNames.value = {};
    asked.clear();
  }

  return { branches, accountTypes, customerNames, ensure, typeName, branchName, customerName, clear };
});

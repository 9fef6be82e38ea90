import { defineStore } from 'pinia';
import { ref } from 'vue';
import { reference } from '../api';
import type { AccountType, Branch } from '../types';

/** Branches and account types: loaded once per session, on demand. */
export const useReference = defineStore('reference', () => {
  const branches = ref<Branch[]>([]);
  const accountTypes = ref<AccountType[]>([]);
  let loading: Promise<void> | null = null;

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

  function clear() {
    branches.value = [];
    accountTypes.value = [];
    loading = null;
  }

  return { branches, accountTypes, ensure, typeName, branchName, clear };
});

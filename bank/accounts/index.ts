// The public face of bank/accounts/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export { ALERT_KINDS, createAlert, deleteAlert, listAlerts } from './alerts.js';
export { setFrozen } from './freeze.js';
export {
  accountEdits,
  accountEntries,
  accountPending,
  assertAccountWatchable,
  closeAccount,
  closedAccounts,
  dailyBalances,
  editAccount,
  getAccount,
  listAccounts,
  listTransactions,
  openAccount,
  statement,
  statementCsv,
} from './operations.js';
export { addPayee, deletePayee, listPayees, lookupAccount } from './payees.js';
export { ensureBankAccounts } from './records.js';
export {
  CODE_RE,
  createAccountType,
  createBranch,
  createRate,
  editAccountType,
  editBranch,
  getAccountType,
  getBranch,
  listAccountTypes,
  listBranches,
  listRates,
} from './reference.js';
export { statementPdf } from './statement-pdf.js';

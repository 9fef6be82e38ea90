// The public face of bank/ledger/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export { listApprovals } from './approvals.js';
export { batchTransfers } from './batch.js';
export { cancelTransaction } from './cancel.js';
export { type IdemRequest } from './idempotency.js';
export { type AccountFailure, accrueInterest, postInterest } from './interest.js';
export { type TransactionDto } from './journal.js';
export { isRealDate } from './rates.js';
export { requestReversal } from './reversals.js';
export { type Progress, snapshotBalances } from './snapshots.js';
export {
  FREQUENCIES,
  createStandingOrder,
  getStandingOrder,
  listStandingOrders,
  runDueStandingOrders,
  standingOrderRuns,
  updateStandingOrder,
} from './standing-orders.js';
export { approve, deposit, getTransaction, reject, transfer, withdraw } from './transactions.js';
export { writerOf } from './writer.js';

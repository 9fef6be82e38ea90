// The public face of bank/core/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export { hasControl } from './checks.js';
export { type Actor, type BankContext, ROLES, type Role, SYSTEM, createBankContext } from './context.js';
export { previousPeriod } from './days.js';
export { withTx } from './db-tx.js';
export {
  BatchItemFailed,
  DomainError,
  type ErrorCode,
  NotFound,
  RateLimited,
  RuleViolation,
  UNAVAILABLE_MESSAGE,
  Unauthenticated,
  storeUnavailable,
} from './errors.js';
export { auditRun, cleanup } from './maintenance.js';

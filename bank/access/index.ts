// The public face of bank/access/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export {
  changePassword,
  disableTotp,
  enableTotp,
  listOwnSessions,
  login,
  logout,
  meDto,
  newRecoveryCodesFor,
  revokeOwnSession,
  setupTotp,
} from './auth.js';
export { hashPassword, passwordProblem, verifyPassword } from './passwords.js';
export { isStaffRole, requireCan } from './permissions.js';
export {
  type ResolvedSession,
  type SessionInvalidation,
  type SessionPolicy,
  invalidateSessionsLocally,
  liveSessionIds,
  resolveSession,
} from './sessions.js';
export { USERNAME_RE, createUserIn, ensureAdmin } from './user-records.js';
export { createUser, getUser, listLoginEvents, listUsers, updateUser } from './users.js';

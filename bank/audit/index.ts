// The public face of bank/audit/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export { checkAudit, checkLedger, listAudit } from './query.js';

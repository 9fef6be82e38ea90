// The public face of bank/notifications/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export { listNotifications, markNotificationRead } from './inbox.js';
export { collectMail, queueStatementsOnce } from './mail-collect.js';
export { type OutgoingMail, type SendMail, deliverDueMails } from './mail-deliver.js';

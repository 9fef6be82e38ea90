// The public face of bank/notifications/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export { listNotifications, markNotificationRead } from './inbox.js';
export { type OutgoingMail, type SendMail, collectMail, deliverDueMails, queueStatementsOnce } from './mail.js';

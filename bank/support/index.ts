// The public face of bank/support/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export {
  CANNED_BODY_MAX,
  TITLE_MAX,
  createCannedReply,
  deleteCannedReply,
  listCannedReplies,
  listStaff,
  updateCannedReply,
} from './desk.js';
export { escalateTickets, flagBreaches } from './escalation.js';
export { parseSla } from './sla.js';
export {
  BODY_MAX,
  SUBJECT_MAX,
  TICKET_CATEGORIES,
  TICKET_PRIORITIES,
  TICKET_STATUSES,
  addTicketMessage,
  createTicket,
  findVisibleTicket,
  getTicket,
  listTickets,
  updateTicket,
} from './tickets.js';

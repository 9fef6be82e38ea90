// The public face of bank/announcements/: what the runtime layers (rest/, hub/, jobs/, runtime/) use.
export {
  AUDIENCES,
  MESSAGE_MAX,
  TITLE_MAX,
  createAnnouncement,
  listAnnouncements,
  updateAnnouncement,
  withdrawAnnouncement,
} from './announcements.js';

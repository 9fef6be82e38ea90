import { rooms } from '../bank/events.js';
import type { SocketData } from './auth.js';

export const isStaffRole = (role: string) => role === 'teller' || role === 'manager' || role === 'admin';

/**
 * The audience rules: the rooms a session belongs to from the moment it connects.
 *  - everyone: its own user:<id> and session:<id>, and `all`;
 *  - customers: customer:<their customer id> and `customers`;
 *  - staff: `staff`, and `managers` for managers and admins.
 * Ticket and account rooms are joined only by command (watch), after an access check.
 */
export function sessionRooms(d: Pick<SocketData, 'userId' | 'sessionId' | 'role' | 'customerId'>): string[] {
  const out = [rooms.user(d.userId), rooms.session(d.sessionId), rooms.all];
  if (d.role === 'customer') {
    if (d.customerId !== null) out.push(rooms.customer(d.customerId));
    out.push(rooms.customers);
  } else if (isStaffRole(d.role)) {
    out.push(rooms.staff);
    if (d.role === 'manager' || d.role === 'admin') out.push(rooms.managers);
  }
  return out;
}

/**
 * What `sync` replays: the session's rooms plus the ticket and account rooms this socket
 * watches (their access was checked on watch). The same set the live path serves, so a
 * client's live events and its replay agree. Staff are not replayed every account's
 * activity: they get it live while watching an account, and the staff-wide events
 * (account.opened, tickets, approvals via `managers`) through their own rooms.
 */
export function entitledRooms(d: SocketData): string[] {
  return [...new Set([...sessionRooms(d), ...d.watching])];
}

import { sessionRooms } from '../bank/outbox/index.js';
import type { SocketData } from './auth.js';

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

import type { BankContext } from '../bank/context.js';
import { NotFound } from '../bank/errors.js';
import type { SocketData } from './auth.js';
import { isStaffRole } from './rooms.js';
import { findVisibleTicket } from '../bank/tickets.js';

// Read-only access checks for watch commands. What the caller may not see is not_found,
// as over REST, so ids cannot be probed.

/** The same rule as REST: staff see every ticket, a customer only their own. */
export async function assertTicketVisible(bank: BankContext, d: SocketData, ticketId: number): Promise<void> {
  await findVisibleTicket(bank.db, { userId: d.userId, role: d.role, customerId: d.customerId, sessionId: d.sessionId }, ticketId);
}

/**
 * Watching an account's room (its balance and transactions live) is a staff extension:
 * customers already receive their own accounts' events through their customer room.
 */
export async function assertAccountWatchable(bank: BankContext, d: SocketData, accountId: number): Promise<void> {
  if (!isStaffRole(d.role)) throw new NotFound('Account');
  const row = await bank.db('accounts').where({ id: accountId, kind: 'customer' }).first('id');
  if (!row) throw new NotFound('Account');
}

import type { BankContext } from '../bank/core/index.js';
import { assertAccountWatchable as accountWatchable } from '../bank/accounts/index.js';
import { findVisibleTicket } from '../bank/support/index.js';
import type { SocketData } from './auth.js';

// Read-only access checks for watch commands, from a socket's session. The rules live in
// bank/; what the caller may not see is not_found, as over REST, so ids cannot be probed.

/** The same rule as REST: staff see every ticket, a customer only their own. */
export async function assertTicketVisible(bank: BankContext, d: SocketData, ticketId: number): Promise<void> {
  await findVisibleTicket(bank.db, { userId: d.userId, role: d.role, customerId: d.customerId, sessionId: d.sessionId }, ticketId);
}

/**
 * Watching an account's room (its balance and transactions live) is a staff extension:
 * customers already receive their own accounts' events through their customer room.
 */
export async function assertAccountWatchable(bank: BankContext, d: SocketData, accountId: number): Promise<void> {
  await accountWatchable(bank.db, d.role, accountId);
}

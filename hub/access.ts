import type { BankContext } from '../bank/context.js';
import { NotFound } from '../bank/errors.js';
import type { SocketData } from './auth.js';
import { isStaffRole } from './rooms.js';

// Read-only access checks for watch commands. What the caller may not see is not_found,
// as over REST, so ids cannot be probed.

/** Staff see every ticket; a customer only their own. */
export async function assertTicketVisible(bank: BankContext, d: SocketData, ticketId: number): Promise<void> {
  const row = await bank.db('tickets').where({ id: ticketId }).first('customer_id');
  if (!row) throw new NotFound('Ticket');
  if (isStaffRole(d.role)) return;
  if (d.role !== 'customer' || d.customerId === null || Number(row.customer_id) !== d.customerId) throw new NotFound('Ticket');
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

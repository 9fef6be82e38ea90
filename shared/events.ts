// The socket's server → client events and their payloads: one definition for the server, which
// records them (bank/events.ts checks every payload it writes against this), and for the web
// client, which listens to them. Types only: nothing here runs.

export type Role = 'customer' | 'teller' | 'manager' | 'admin';

export interface TransactionPayload {
  id: number;
  kind: 'deposit' | 'withdrawal' | 'transfer' | 'interest' | 'reversal';
  status: 'posted' | 'pending_approval' | 'rejected' | 'cancelled';
  amount: string;
  currency: string;
  fromAccountNumber: string | null;
  toAccountNumber: string | null;
  memo: string | null;
  createdAt: string;
  postedAt: string | null;
  /** The transaction a reversal reverses, and the reversal of a reversed one. */
  reversalOf?: number | null;
  reversedBy?: number | null;
}

/** An account as the server describes it (the bank's own accounts have no customer, type or branch). */
export interface AccountPayload {
  id: number;
  number: string;
  customerId: number | null;
  type: string | null;
  branch: string | null;
  currency: string;
  balance: string;
  availableBalance: string;
  status: 'active' | 'frozen' | 'closed';
  /** Who froze it: the customer (may lift it) or the bank. */
  frozenBy?: 'customer' | 'bank' | null;
  openedAt: string;
  closedAt: string | null;
}

export interface StandingOrderRunPayload {
  date: string;
  status: 'posted' | 'pending_approval' | 'failed';
  transactionId: number | null;
  error: { code: string; message: string } | null;
}

export interface StandingOrderPayload {
  id: number;
  fromAccountId: number;
  toAccountNumber: string;
  amount: string;
  currency: string;
  memo: string;
  frequency: 'once' | 'daily' | 'weekly' | 'monthly';
  startDate: string;
  endDate: string | null;
  nextRunDate: string | null;
  status: 'active' | 'paused' | 'cancelled' | 'completed';
  lastRun: StandingOrderRunPayload | null;
  createdAt: string;
  updatedAt: string;
}

export interface TicketMessagePayload {
  id: number;
  authorId: number;
  authorRole: Role;
  /** The author's display name: staff messages are signed with it. */
  authorName?: string | null;
  body: string;
  at: string;
  /** A note between staff (never sent to the customer). */
  internal?: boolean;
}

export interface TicketPayload {
  id: number;
  customerId: number;
  category: 'account' | 'card' | 'transaction' | 'security' | 'general';
  subject: string;
  status: 'open' | 'in_progress' | 'resolved' | 'closed';
  priority: 'low' | 'normal' | 'high' | 'urgent';
  assigneeId: number | null;
  resolution: string | null;
  firstResponseDueAt?: string | null;
  resolutionDueAt?: string | null;
  firstRespondedAt?: string | null;
  breached?: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface AnnouncementPayload {
  id: number;
  title: string;
  message: string;
  audience: 'all' | 'customers' | 'staff';
  active: boolean;
  publishedAt: string | null;
  expiresAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Every event's payload (what the server records), by event name. `seq` and `at` come on top. */
export interface ServerEvents {
  'balance.updated': { accountId: number; accountNumber: string; balance: string; availableBalance: string; transactionId: number | null };
  'transaction.posted': { transaction: TransactionPayload };
  'transaction.pending': { transaction: TransactionPayload };
  'transaction.approved': { transaction: TransactionPayload };
  'transaction.rejected': { transaction: TransactionPayload };
  'transaction.cancelled': { transaction: TransactionPayload };
  /** A posted transaction was reversed by the transaction `reversalId`. */
  'transaction.reversed': { transaction: TransactionPayload; reversalId: number };
  /** An account changed (status, freeze, branch, type); `changes` holds [before, after] per field. */
  'account.updated': { account: AccountPayload; changes: Record<string, readonly unknown[]> };
  'standing_order.updated': { standingOrder: StandingOrderPayload };
  'ticket.created': { ticket: TicketPayload };
  /** `escalated`: the SLA job raised its priority; `breach`: which service target it just missed. */
  'ticket.updated': { ticket: TicketPayload; escalated?: boolean; breach?: 'first_response' | 'resolution' };
  'ticket.message': { ticketId: number; message: TicketMessagePayload };
  'announcement.published': { announcement: AnnouncementPayload };
  'announcement.updated': { announcement: AnnouncementPayload };
  'announcement.withdrawn': { announcement: AnnouncementPayload };
  notification: { id: number; kind: string; title: string; body: string };
  'presence.ticket': { ticketId: number; viewers: Array<{ userId: number; displayName: string }> };
  'ticket.typing': { ticketId: number; userId?: number; displayName?: string };
  'session.revoked': { reason?: string; sessionId?: number };
}

export type ServerEventName = keyof ServerEvents;

/** What a client receives: the payload with its place in the stream. */
export type ServerEvent<E extends ServerEventName> = ServerEvents[E] & { seq: number; at: string };

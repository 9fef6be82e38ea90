// The socket's server → client events: their names, payloads and audiences, in one definition
// for the server, which records them (bank/outbox/events.ts checks every name, payload and room it
// writes against this) and relays the ephemeral ones (hub/), and for the web client, which
// listens to them. Types only: nothing here runs.

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

export interface AddressPayload {
  id: number;
  line1: string;
  line2: string | null;
  city: string;
  state: string | null;
  postalCode: string;
  country: string;
  createdAt: string;
  updatedAt: string;
}

export interface CustomerPayload {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  dateOfBirth: string;
  addresses: AddressPayload[];
  /** The customer's (first) sign-in, if they have one. */
  userId: number | null;
  createdAt: string;
  updatedAt: string;
}

/** The customer fields an edit may change (customer.updated `changes` names these). */
export type CustomerField = 'firstName' | 'lastName' | 'email' | 'phone' | 'dateOfBirth';

export interface TicketViewer {
  userId: number;
  displayName: string;
}

/**
 * Every event's payload, by event name. `at` comes on top of each, and `seq` on top of each
 * recorded one (all but the ephemeral events: see EphemeralEventName). Who receives each is
 * in EventAudience.
 */
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
  /** A customer account was opened. */
  'account.opened': { account: AccountPayload };
  'standing_order.updated': { standingOrder: StandingOrderPayload };
  /** A customer record was created (staff see it on the desk). */
  'customer.created': { customer: CustomerPayload };
  /**
   * A customer record changed: `changes` holds [before, after] per field edited; an address
   * change sends the whole record without `changes`.
   */
  'customer.updated': { customer: CustomerPayload; changes?: Partial<Record<CustomerField, readonly [string, string]>> };
  'ticket.created': { ticket: TicketPayload };
  /** `escalated`: the SLA job raised its priority; `breach`: which service target it just missed. */
  'ticket.updated': { ticket: TicketPayload; escalated?: boolean; breach?: 'first_response' | 'resolution' };
  'ticket.message': { ticketId: number; message: TicketMessagePayload };
  'announcement.published': { announcement: AnnouncementPayload };
  'announcement.updated': { announcement: AnnouncementPayload };
  'announcement.withdrawn': { announcement: AnnouncementPayload };
  notification: { id: number; kind: string; title: string; body: string };
  /** The user read notification `id` (their other tabs update their bell). */
  'notification.read': { id: number };
  /** Ephemeral (the hub sends it; never recorded): who is looking at a ticket now. */
  'presence.ticket': { ticketId: number; viewers: TicketViewer[] };
  /** Ephemeral (the hub relays it; never recorded): someone is typing on a ticket. */
  'ticket.typing': { ticketId: number; userId: number; displayName: string };
  /** The session `sessionId` was revoked (`reason`: logout, password change, …); the hub then disconnects its sockets. */
  'session.revoked': { reason: string; sessionId: number };
}

export type ServerEventName = keyof ServerEvents;

/** Events the hub sends straight to sockets: not in the outbox, so no seq and no replay. */
export type EphemeralEventName = 'presence.ticket' | 'ticket.typing';

/** Events recorded in the outbox (bank/outbox/events.ts recordEvent): each gets a seq. */
export type RecordedEventName = Exclude<ServerEventName, EphemeralEventName>;

/** What a client receives: the payload with its time and, when recorded, its place in the stream. */
export type ServerEvent<E extends ServerEventName> = ServerEvents[E] &
  (E extends EphemeralEventName ? { at: string } : { seq: number; at: string });

/**
 * The kinds of room an event can be sent to. `user`, `session`, `customer`, `account` and
 * `ticket` rooms are per id (`account:42`); the others are one room each.
 */
export type RoomKind = 'user' | 'session' | 'customer' | 'account' | 'ticket' | 'staff' | 'managers' | 'all' | 'customers';

/** A room's name: `staff`, `customers`, …, or `<kind>:<id>`. */
export type RoomName<K extends RoomKind = RoomKind> = K extends 'staff' | 'managers' | 'all' | 'customers' ? K : `${K}:${number}`;

/**
 * Who receives each event: the kinds of room it may be sent to. The server records and
 * relays events only to these (recordEvent takes rooms of these kinds, checked by the
 * compiler); sessions join user, session, all and customer+customers or staff(+managers)
 * rooms, and watch ticket and account rooms.
 */
export interface EventAudience {
  /** The account's room (its owner's sessions, staff watching it) and its owner. */
  'balance.updated': 'account' | 'customer';
  /** Both parties' accounts and owners. */
  'transaction.posted': 'account' | 'customer';
  /** The parties, and managers (who approve). */
  'transaction.pending': 'account' | 'customer' | 'managers';
  'transaction.approved': 'account' | 'customer' | 'managers';
  'transaction.rejected': 'account' | 'customer' | 'managers';
  'transaction.cancelled': 'account' | 'customer' | 'managers';
  'transaction.reversed': 'account' | 'customer';
  /** The owner and staff. */
  'account.opened': 'customer' | 'staff';
  /** The owner, whoever watches the account, and staff. */
  'account.updated': 'customer' | 'account' | 'staff';
  /** The paying account and its owner. */
  'standing_order.updated': 'account' | 'customer';
  'customer.created': 'staff';
  /** The customer and staff. */
  'customer.updated': 'customer' | 'staff';
  /** The owner, staff, and whoever watches the ticket (internal notes and SLA breaches: staff only). */
  'ticket.created': 'customer' | 'staff' | 'ticket';
  'ticket.updated': 'customer' | 'staff' | 'ticket';
  'ticket.message': 'customer' | 'staff' | 'ticket';
  /** The announcement's audience (an audience change: the old and the new). */
  'announcement.published': 'all' | 'customers' | 'staff';
  'announcement.updated': 'all' | 'customers' | 'staff';
  'announcement.withdrawn': 'all' | 'customers' | 'staff';
  /** The user, in every session. */
  notification: 'user';
  'notification.read': 'user';
  /** Staff only (who at the bank is looking is not the owner's business). */
  'presence.ticket': 'staff';
  /** Staff, and the ticket's room when the owner types (staff typing: staff only). */
  'ticket.typing': 'staff' | 'ticket';
  /** The revoked session's sockets. */
  'session.revoked': 'session';
}

/** The rooms an event may be sent to (indexing fails to compile for an event without an audience). */
export type EventRoom<E extends ServerEventName> = RoomName<EventAudience[E]>;

import type { AddressInput } from '../../shared/api';
import type {
  AccountPayload,
  AnnouncementPayload,
  CustomerPayload,
  Role,
  ServerEvent,
  TicketMessagePayload,
  TicketPayload,
  TicketViewer,
  TransactionPayload,
} from '../../shared/events';

// Shapes of the public contract (API.md). Money fields are decimal strings, ids integers,
// times ISO 8601 UTC strings.

export type { Role };
export type StaffRole = Exclude<Role, 'customer'>;

export interface User {
  id: number;
  username: string;
  role: Role;
  customerId: number | null;
  displayName: string;
  /** Not in the contract; some admin listings may carry it. */
  active?: boolean;
  /** GET /auth/me says whether two-step verification is on. */
  totpEnabled?: boolean;
}

/** GET /auth/me also says when the web app should ask "still there?". */
export interface SessionPolicy {
  idleSeconds: number;
  warnSeconds: number;
  expiresAt: string;
}

export interface Me extends User {
  session?: SessionPolicy;
}

export interface LoginResponse {
  token: string;
  expiresAt: string;
  user: User;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An address as sent (shared/api.ts), with its id once stored. */
export interface Address extends AddressInput {
  id?: number;
}

/** A customer as the server describes it (REST and the customer.* events). */
export type Customer = CustomerPayload;

export interface Branch {
  id: number;
  code: string;
  name: string;
  city: string;
  address?: string | null;
}

export interface AccountType {
  code: string;
  name: string;
  minBalance: string;
  overdraftLimit: string;
  approvalThreshold: string | null;
}

export type AccountStatus = AccountPayload['status'];

/** A customer's account (the server's AccountPayload; only the bank's own accounts lack these three). */
export type Account = AccountPayload & { customerId: number; type: string; branch: string };

export interface AccountEdit {
  by: number | string | null;
  at: string;
  changes: Record<string, [unknown, unknown]>;
  note: string | null;
}

export interface Entry {
  id: number;
  transactionId: number;
  kind: string;
  amount: string;
  balanceAfter: string;
  counterparty: string | null;
  memo: string | null;
  at: string;
}

export interface DailyBalance {
  date: string;
  balance: string;
}

export type TransactionKind = TransactionPayload['kind'];
export type TransactionStatus = TransactionPayload['status'];
export type Transaction = TransactionPayload;

export type TicketCategory = TicketPayload['category'];
export type TicketStatus = TicketPayload['status'];
export type TicketPriority = TicketPayload['priority'];
export type TicketMessage = TicketMessagePayload;
export type Ticket = TicketPayload & { messages?: TicketMessage[] };

export interface StaffUser {
  id: number;
  username: string;
  displayName: string;
  role: Role;
}

export interface CannedReply {
  id: number;
  title: string;
  body: string;
  createdBy: number;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookEndpoint {
  id: number;
  url: string;
  description: string | null;
  events: string[];
  active: boolean;
  createdAt: string;
  updatedAt: string;
  /** Only in the answer to its creation. */
  secret?: string;
}

export interface WebhookDelivery {
  id: number;
  seq: number;
  event: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

export type Audience = AnnouncementPayload['audience'];
export type Announcement = AnnouncementPayload;

export interface Notification {
  id: number;
  kind: string;
  title: string;
  body: string;
  /** The contract does not fix how "read" is reported; either of these is understood. */
  readAt?: string | null;
  read?: boolean;
  createdAt?: string;
  at?: string;
}

export type Viewer = TicketViewer;

export interface JobRun {
  name: string;
  ok: boolean;
  result: unknown;
}

export interface LedgerVerify {
  ok: boolean;
  accounts: number;
  transactions: number;
  mismatches: unknown[];
}

export interface AuditVerify {
  ok: boolean;
  checked: number;
  firstBrokenId: number | null;
}

// ---- socket payloads: the server's own definitions (shared/events.ts), with seq and at ----

export type BalanceUpdated = ServerEvent<'balance.updated'>;
export type TransactionEvent = ServerEvent<'transaction.posted'>;
export type TicketEvent = ServerEvent<'ticket.updated'>;
export type TicketMessageEvent = ServerEvent<'ticket.message'>;
export type AnnouncementEvent = ServerEvent<'announcement.published'>;
export type NotificationEvent = ServerEvent<'notification'>;
export type PresenceEvent = ServerEvent<'presence.ticket'>;
export type TypingEvent = ServerEvent<'ticket.typing'>;
export type SessionRevoked = ServerEvent<'session.revoked'>;

export interface InterestRate {
  id: number;
  accountType: string;
  annualRate: string;
  effectiveFrom: string;
  createdAt: string;
  createdBy: number | null;
}

export type { LoginEvent } from '../../shared/api';

export interface AuditRecord {
  id: number;
  actorId: number | null;
  action: string;
  entity: string;
  entityId: string | number | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  ip: string | null;
  at: string;
  hash: string;
}

/** One of the signed-in user's live sessions (GET /auth/sessions). */
export interface SignedInDevice {
  id: number;
  createdAt: string;
  lastSeenAt: string;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

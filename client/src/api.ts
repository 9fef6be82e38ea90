// The REST client. Cookie auth (credentials: same-origin) plus the X-Requested-With header the
// server requires on cookie-authenticated mutations; every error becomes an ApiError carrying
// the envelope's code, details and message (errors.ts turns them into words for people).

import type {
  Account,
  AccountEdit,
  AccountType,
  Address,
  Announcement,
  Audience,
  AuditVerify,
  Branch,
  Customer,
  DailyBalance,
  Entry,
  JobRun,
  LedgerVerify,
  LoginResponse,
  LoginEvent,
  AuditRecord,
  InterestRate,
  Me,
  Notification,
  Page,
  Role,
  SignedInDevice,
  CannedReply,
  StaffUser,
  Ticket,
  TicketCategory,
  TicketMessage,
  TicketPriority,
  TicketStatus,
  Transaction,
  User,
  WebhookDelivery,
  WebhookEndpoint,
} from './types';

export const API_BASE = '/api/v1';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** Seconds, from Retry-After on 429. */
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, details?: unknown, retryAfter: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

// Errors in words for people live in errors.ts; these names stay for the views that use them.
export { errorMessage, errorDetails } from './errors';

type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface FullResponse<T> {
  status: number;
  data: T;
  /** Idempotent-Replayed: true — the server answered a retry with the first attempt's result. */
  replayed: boolean;
}

let unauthenticatedHandler: (() => void) | null = null;

/** Called when a request is refused with 401 `unauthenticated` (the session ended under us). */
export function onUnauthenticated(handler: (() => void) | null): void {
  unauthenticatedHandler = handler;
}

export function buildUrl(path: string, query?: Query): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    qs.append(k, String(v));
  }
  const s = qs.toString();
  return `${API_BASE}${path}${s ? `?${s}` : ''}`;
}

export async function requestFull<T>(method: string, path: string, opts: RequestOptions = {}): Promise<FullResponse<T>> {
  const headers: Record<string, string> = {
    Accept: 'application/json',
    'X-Requested-With': 'XMLHttpRequest',
  };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;

  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', 'Could not reach the bank. Check your connection and try again.');
  }

  const text = await res.text().catch(() => '');
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }

  if (!res.ok) {
    const env = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
    const retryRaw = res.headers.get('Retry-After');
    const retryAfter = retryRaw && /^\d+$/.test(retryRaw) ? Number(retryRaw) : null;
    const code = typeof env?.code === 'string' ? env.code : `http_${res.status}`;
    const message =
      typeof env?.message === 'string' && env.message
        ? env.message
        : res.status >= 500
          ? `The bank could not complete the request (error ${res.status}). Please try again.`
          : `Request failed (${res.status} ${res.statusText || 'error'}).`;
    const error = new ApiError(res.status, code, message, env?.details, retryAfter);
    if (res.status === 401 && code === 'unauthenticated' && !path.startsWith('/auth/')) unauthenticatedHandler?.();
    throw error;
  }

  if (text && parsed === undefined) {
    throw new ApiError(res.status, 'invalid_response', 'The bank sent an answer this page cannot read.');
  }
  return {
    status: res.status,
    data: parsed as T,
    replayed: res.headers.get('Idempotent-Replayed') === 'true',
  };
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  return (await requestFull<T>(method, path, opts)).data;
}

const get = <T>(path: string, query?: Query, signal?: AbortSignal) => request<T>('GET', path, { query, signal });
const post = <T>(path: string, body?: unknown, idempotencyKey?: string) => request<T>('POST', path, { body: body ?? {}, idempotencyKey });
const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, { body });
const del = <T>(path: string) => request<T>('DELETE', path);

/** Lists are `{items, nextCursor}`; a few endpoints answer a bare array. Accept both. */
export function asPage<T>(value: unknown): Page<T> {
  if (Array.isArray(value)) return { items: value as T[], nextCursor: null };
  const v = value as Partial<Page<T>> | null | undefined;
  return { items: Array.isArray(v?.items) ? v.items : [], nextCursor: v?.nextCursor ?? null };
}

async function list<T>(path: string, query?: Query, signal?: AbortSignal): Promise<Page<T>> {
  return asPage<T>(await get<unknown>(path, query, signal));
}

/** Follows nextCursor until exhausted (bounded), for small reference lists. */
async function listAll<T>(path: string, query: Query = {}, maxPages = 20): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const page: Page<T> = await list<T>(path, { ...query, limit: 500, cursor });
    out.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return out;
}

const id = (n: number | string) => encodeURIComponent(String(n));

// ---- auth ----

/** GET /auth/me, or the user a login answered with. */
export type MeAnswer = Me | User;

/** A 6-digit code from the app (spaces ignored) is `otp`; anything else is a recovery code. */
function secondFactor(code: string | undefined): { otp?: string; recoveryCode?: string } {
  if (!code) return {};
  const digits = code.replace(/\s/g, '');
  return /^\d{6}$/.test(digits) ? { otp: digits } : { recoveryCode: code.trim() };
}

export const auth = {
  /** `otp` is the 6-digit code, or a recovery code (anything else) when the phone is lost. */
  login: (username: string, password: string, otp?: string) =>
    post<LoginResponse>('/auth/login', { username, password, ...secondFactor(otp) }),
  logout: () => post<void>('/auth/logout'),
  me: () => get<Me>('/auth/me'),
  changePassword: (currentPassword: string, newPassword: string) => post<void>('/auth/password', { currentPassword, newPassword }),
  totpSetup: () => post<{ secret: string; otpauthUrl: string }>('/auth/totp/setup'),
  totpEnable: (otp: string) => post<void>('/auth/totp/enable', { otp }),
  totpRecoveryCodes: (otp: string) => post<{ codes: string[] }>('/auth/totp/recovery-codes', { otp }),
  totpDisable: (password: string, code: string) => post<void>('/auth/totp/disable', { password, ...secondFactor(code) }),
  sessions: () => get<SignedInDevice[]>('/auth/sessions'),
  signOutDevice: (sessionId: number) => del<void>(`/auth/sessions/${id(sessionId)}`),
};

// ---- reference data ----

export const reference = {
  branches: () => listAll<Branch>('/branches'),
  accountTypes: () => listAll<AccountType>('/account-types'),
};

// ---- customers ----

export interface OnboardInput {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  dateOfBirth: string;
  address: Address;
  login?: { username: string; password: string };
}

export const customers = {
  search: (q: string, cursor?: string | null) => list<Customer>('/customers', { q, cursor }),
  get: (customerId: number) => get<Customer>(`/customers/${id(customerId)}`),
  create: (input: OnboardInput) => post<Customer>('/customers', input),
  update: (customerId: number, changes: Partial<Pick<Customer, 'firstName' | 'lastName' | 'email' | 'phone' | 'dateOfBirth'>>) =>
    patch<Customer>(`/customers/${id(customerId)}`, changes),
  addresses: (customerId: number) => list<Address>(`/customers/${id(customerId)}/addresses`),
};

// ---- accounts ----

export interface EntryQuery {
  from?: string;
  to?: string;
  cursor?: string | null;
  limit?: number;
  order?: 'asc' | 'desc';
  kind?: string;
  q?: string;
  minAmount?: string;
  maxAmount?: string;
}

export type PendingItem = Transaction & { direction: 'in' | 'out'; mine: boolean };

export const accounts = {
  list: (query: { customerId?: number; branch?: string; status?: string } = {}) => listAll<Account>('/accounts', query),
  get: (accountId: number) => get<Account>(`/accounts/${id(accountId)}`),
  open: (input: { customerId: number; type: string; branch: string; currency?: string }) => post<Account>('/accounts', input),
  update: (accountId: number, changes: { status?: 'active' | 'frozen'; branch?: string; type?: string; note?: string }) =>
    patch<Account>(`/accounts/${id(accountId)}`, changes),
  close: (accountId: number, reason: string) => post<Account>(`/accounts/${id(accountId)}/close`, { reason }),
  edits: async (accountId: number) => asPage<AccountEdit>(await get<unknown>(`/accounts/${id(accountId)}/edits`)).items,
  entries: (accountId: number, query: EntryQuery = {}) => list<Entry>(`/accounts/${id(accountId)}/entries`, { ...query }),
  /** Held going out or on its way in, waiting for a manager. */
  pending: async (accountId: number) => asPage<PendingItem>(await get<unknown>(`/accounts/${id(accountId)}/pending`)).items,
  balances: async (accountId: number, query: { from?: string; to?: string } = {}) =>
    asPage<DailyBalance>(await get<unknown>(`/accounts/${id(accountId)}/balances`, query)).items,
  statementUrl: (accountId: number, query: { from?: string; to?: string; format?: 'csv' | 'json' } = {}) =>
    buildUrl(`/accounts/${id(accountId)}/statement`, { format: 'csv', ...query }),
};

// ---- money movement ----

export interface TransferInput {
  fromAccountId: number;
  toAccountNumber: string;
  amount: string;
  memo?: string;
}

export const money = {
  transfer: (input: TransferInput, idempotencyKey: string) =>
    requestFull<Transaction>('POST', '/transfers', { body: input, idempotencyKey }),
  deposit: (input: { accountId: number; amount: string; memo?: string }, idempotencyKey: string) =>
    requestFull<Transaction>('POST', '/deposits', { body: input, idempotencyKey }),
  withdraw: (input: { accountId: number; amount: string; memo?: string }, idempotencyKey: string) =>
    requestFull<Transaction>('POST', '/withdrawals', { body: input, idempotencyKey }),
  transaction: (txId: number) => get<Transaction>(`/transactions/${id(txId)}`),
  /** Its maker withdraws a transaction still waiting for approval (the hold is released). */
  cancel: (txId: number) => post<Transaction>(`/transactions/${id(txId)}/cancel`, {}),
};

/** Approval queue items: a transaction, or a record wrapping one; both are understood. */
/** A customer account in the approval queue, with its holder's name. */
export type ApprovalParty = Account & { customerName: string };

export type ApprovalItem = Transaction & {
  transactionId?: number;
  transaction?: Transaction;
  requestedBy?: unknown;
  note?: string | null;
  from?: ApprovalParty | null;
  to?: ApprovalParty | null;
};

export const approvals = {
  list: (status = 'pending') => listAll<ApprovalItem>('/approvals', { status }),
  approve: (txId: number, note?: string) => post<Transaction>(`/approvals/${id(txId)}/approve`, note ? { note } : {}),
  reject: (txId: number, note?: string) => post<Transaction>(`/approvals/${id(txId)}/reject`, note ? { note } : {}),
};

// ---- tickets ----

export const tickets = {
  list: (
    query: {
      status?: string;
      assigneeId?: number | 'none';
      priority?: string;
      breached?: boolean;
      customerId?: number;
      cursor?: string | null;
      limit?: number;
    } = {},
  ) => list<Ticket>('/tickets', { limit: 200, ...query }),
  get: (ticketId: number) => get<Ticket>(`/tickets/${id(ticketId)}`),
  create: (input: { category: TicketCategory; subject: string; body: string; priority?: TicketPriority }) =>
    post<Ticket>('/tickets', input),
  post: (ticketId: number, body: string, internal = false) =>
    post<TicketMessage>(`/tickets/${id(ticketId)}/messages`, internal ? { body, internal } : { body }),
  staff: async () => (await get<{ items: StaffUser[] }>('/staff-users')).items,
  update: (
    ticketId: number,
    changes: { status?: TicketStatus; priority?: TicketPriority; assigneeId?: number | null; resolution?: string },
  ) => patch<Ticket>(`/tickets/${id(ticketId)}`, changes),
};

export const canned = {
  list: async () => (await get<{ items: CannedReply[] }>('/canned-replies')).items,
  create: (input: { title: string; body: string }) => post<CannedReply>('/canned-replies', input),
  update: (replyId: number, changes: { title?: string; body?: string }) => patch<CannedReply>(`/canned-replies/${id(replyId)}`, changes),
  remove: (replyId: number) => del<void>(`/canned-replies/${id(replyId)}`),
};

// ---- webhooks (admin) ----

export const webhooks = {
  list: async () => (await get<{ items: WebhookEndpoint[] }>('/webhooks')).items,
  create: (input: { url: string; events: string[]; description?: string }) => post<WebhookEndpoint>('/webhooks', input),
  update: (hookId: number, changes: { url?: string; events?: string[]; active?: boolean }) =>
    patch<WebhookEndpoint>(`/webhooks/${id(hookId)}`, changes),
  remove: (hookId: number) => del<void>(`/webhooks/${id(hookId)}`),
  deliveries: (hookId: number, query: { status?: string; cursor?: string | null } = {}) =>
    list<WebhookDelivery>(`/webhooks/${id(hookId)}/deliveries`, { limit: 50, ...query }),
  redeliver: (hookId: number, deliveryId: number) =>
    post<WebhookDelivery>(`/webhooks/${id(hookId)}/deliveries/${id(deliveryId)}/redeliver`, {}),
};

// ---- announcements ----

export interface AnnouncementInput {
  title: string;
  message: string;
  audience: Audience;
  expiresAt?: string | null;
}

export const announcements = {
  list: () => listAll<Announcement>('/announcements'),
  /** Manager+: every announcement, withdrawn, scheduled and other audiences' included. */
  listManaged: () => listAll<Announcement>('/announcements', { includeInactive: 'true' }),
  create: (input: AnnouncementInput) => post<Announcement>('/announcements', input),
  update: (announcementId: number, changes: Partial<AnnouncementInput> & { active?: boolean }) =>
    patch<Announcement>(`/announcements/${id(announcementId)}`, changes),
  withdraw: (announcementId: number) => del<Announcement | undefined>(`/announcements/${id(announcementId)}`),
};

// ---- notifications ----

export const notifications = {
  list: () => list<Notification>('/notifications', { limit: 100 }),
  markRead: (notificationId: number) => post<void>(`/notifications/${id(notificationId)}/read`),
};

// ---- administration ----

export const users = {
  list: () => listAll<User>('/users'),
  create: (input: { username: string; password: string; role: Role; displayName: string; customerId?: number }) =>
    post<User>('/users', input),
  update: (userId: number, changes: { role?: Role; active?: boolean; displayName?: string }) =>
    patch<User>(`/users/${id(userId)}`, changes),
};

export const JOB_NAMES = [
  'interest-accrual',
  'interest-posting',
  'balance-snapshot',
  'mail',
  'ticket-escalation',
  'standing-orders',
  'cleanup',
] as const;

export interface AuditQuery {
  entity?: string;
  entityId?: string;
  actorId?: string;
  from?: string;
  to?: string;
  cursor?: string | null;
  limit?: number;
}

export const backOffice = {
  branches: () => listAll<Branch>('/branches'),
  createBranch: (input: { code: string; name: string; city: string; address?: string }) => post<Branch>('/branches', input),
  updateBranch: (branchId: number, changes: { name?: string; city?: string; address?: string }) =>
    patch<Branch>(`/branches/${id(branchId)}`, changes),
  accountTypes: () => listAll<AccountType>('/account-types'),
  createAccountType: (input: {
    code: string;
    name: string;
    minBalance: string;
    overdraftLimit: string;
    approvalThreshold: string | null;
  }) => post<AccountType>('/account-types', input),
  updateAccountType: (
    code: string,
    changes: { name?: string; minBalance?: string; overdraftLimit?: string; approvalThreshold?: string | null },
  ) => patch<AccountType>(`/account-types/${id(code)}`, changes),
  rates: (accountType: string) => listAll<InterestRate>('/interest-rates', { accountType }),
  addRate: (input: { accountType: string; annualRate: string; effectiveFrom: string }) => post<InterestRate>('/interest-rates', input),
  loginEvents: (query: { userId?: string; cursor?: string | null; limit?: number }) => list<LoginEvent>('/login-events', { ...query }),
  audit: (query: AuditQuery) => list<AuditRecord>('/audit', { ...query }),
};

export const ops = {
  runJob: (name: string) => post<JobRun>(`/jobs/${id(name)}/run`),
  ledgerVerify: () => get<LedgerVerify>('/ledger/verify'),
  auditVerify: () => get<AuditVerify>('/audit/verify'),
};

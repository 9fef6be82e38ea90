import { Model, type Modifiers, type RelationMappings } from 'objection';

/*
 * Objection models, one per table of the bank (db/migrations). Properties are the columns as
 * stored (snake_case, ISO timestamp strings, 0/1 booleans on SQLite), like the rest of the
 * code reads rows. No knex is ever bound globally: the app and the tests run several
 * databases in one process, so every query names its own: `Customer.query(db)`.
 * Properties are `declare`d so class fields never shadow what objection sets.
 *
 * Reading rows: these models are the ONE definition of a table's row. A row type elsewhere is
 * derived from its model, never restated: `type AccountRow = Row<Account>` for a whole row,
 * `Pick<Row<Payee>, 'id' | ...> & Pick<Row<Account>, 'number'>` for a partial or joined select.
 * So a column's type (nullability, the literal union of a CHECK) is written here once, and
 * tests/unit/models.test.ts holds the declared columns to the migrations. How a row is read is
 * a separate choice: knex query builders typed with these row types (most reads), prepared
 * statements on the hot paths (db/fast.ts, db/read.ts), and `Model.query(db)` where a graph of
 * relations helps (bank/customers/customers.ts, bank/support/tickets.ts).
 */

type Bool = boolean | number;

/** A model's column properties: its own non-function properties that hold no related models. */
type ColumnNames<M extends Model> = {
  [K in Exclude<keyof M, keyof Model>]-?: M[K] extends (...args: never[]) => unknown
    ? never
    : NonNullable<M[K]> extends Model | readonly Model[]
      ? never
      : K;
}[Exclude<keyof M, keyof Model>];

/**
 * A table's row as stored: `Row<Account>` is what `db('accounts')` answers. Unlike objection's
 * ModelObject it leaves out the relation properties (a row read by knex has none).
 */
export type Row<M extends Model> = Pick<M, ColumnNames<M>>;

const belongsTo = (modelClass: typeof Model, from: string, to: string) => ({
  relation: Model.BelongsToOneRelation,
  modelClass,
  join: { from, to },
});
const hasMany = (modelClass: typeof Model, from: string, to: string) => ({
  relation: Model.HasManyRelation,
  modelClass,
  join: { from, to },
});
const hasOne = (modelClass: typeof Model, from: string, to: string) => ({ relation: Model.HasOneRelation, modelClass, join: { from, to } });

/** The shared modifiers: `withGraphFetched('messages(orderById)')` lists related rows in key order. */
export class BankModel extends Model {
  static modifiers: Modifiers = {
    orderById(qb) {
      const m = qb.modelClass();
      for (const c of [m.idColumn].flat()) qb.orderBy(`${m.tableName}.${c}`);
    },
  };
}

// ---- people and logins --------------------------------------------------------------------

export class Customer extends BankModel {
  static tableName = 'customers';
  declare id: number;
  declare first_name: string;
  declare last_name: string;
  declare email: string;
  declare phone: string;
  declare date_of_birth: string;
  declare created_at: string;
  declare updated_at: string;

  declare addresses?: Address[];
  declare accounts?: Account[];
  declare tickets?: Ticket[];
  declare user?: User | null;
  declare mails?: MailOutbox[];

  static relationMappings = (): RelationMappings => ({
    addresses: hasMany(Address, 'customers.id', 'addresses.customer_id'),
    accounts: hasMany(Account, 'customers.id', 'accounts.customer_id'),
    tickets: hasMany(Ticket, 'customers.id', 'tickets.customer_id'),
    // Fetch with `user(customerLogin)` for the customer's first login, as the API shows it.
    user: hasOne(User, 'customers.id', 'users.customer_id'),
    mails: hasMany(MailOutbox, 'customers.id', 'mail_outbox.customer_id'),
  });
}

export class Address extends BankModel {
  static tableName = 'addresses';
  declare id: number;
  declare customer_id: number;
  declare line1: string;
  declare line2: string | null;
  declare city: string;
  declare state: string | null;
  declare postal_code: string;
  declare country: string;
  declare created_at: string;
  declare updated_at: string;

  declare customer?: Customer;

  static relationMappings = (): RelationMappings => ({
    customer: belongsTo(Customer, 'addresses.customer_id', 'customers.id'),
  });
}

export class User extends BankModel {
  static tableName = 'users';
  declare id: number;
  declare username: string;
  declare password_hash: string;
  declare role: 'customer' | 'teller' | 'manager' | 'admin';
  declare customer_id: number | null;
  declare display_name: string;
  declare active: Bool;
  declare failed_logins: number;
  declare locked_until: string | null;
  /** Sealed (bank/core/secret-box.ts). */
  declare totp_secret: string | null;
  declare totp_enabled: Bool;
  /** The time step of the last TOTP code accepted: a code is accepted once. */
  declare totp_last_step: number | null;
  /** JSON array of SHA-256 hashes of the unused recovery codes. */
  declare totp_recovery_codes: string | null;
  declare created_at: string;
  declare updated_at: string;

  declare customer?: Customer | null;
  declare sessions?: Session[];
  declare loginEvents?: LoginEvent[];
  declare notifications?: Notification[];
  declare assignedTickets?: Ticket[];

  static modifiers: Modifiers = {
    ...BankModel.modifiers,
    /** A customer's login as the API names it: the first customer-role user, only its id. */
    customerLogin(qb) {
      qb.where('users.role', 'customer').orderBy('users.id').select('users.id', 'users.customer_id');
    },
  };

  static relationMappings = (): RelationMappings => ({
    customer: belongsTo(Customer, 'users.customer_id', 'customers.id'),
    sessions: hasMany(Session, 'users.id', 'sessions.user_id'),
    loginEvents: hasMany(LoginEvent, 'users.id', 'login_events.user_id'),
    notifications: hasMany(Notification, 'users.id', 'notifications.user_id'),
    assignedTickets: hasMany(Ticket, 'users.id', 'tickets.assignee_id'),
  });
}

export class Session extends BankModel {
  static tableName = 'sessions';
  declare id: number;
  declare user_id: number;
  declare token_hash: string;
  declare created_at: string;
  declare last_seen_at: string;
  declare expires_at: string;
  declare revoked_at: string | null;
  declare revoked_reason: string | null;
  declare ip: string | null;
  declare user_agent: string | null;

  declare user?: User;

  static relationMappings = (): RelationMappings => ({
    user: belongsTo(User, 'sessions.user_id', 'users.id'),
  });
}

export class LoginEvent extends BankModel {
  static tableName = 'login_events';
  declare id: number;
  declare user_id: number | null;
  declare username: string;
  declare kind: 'login' | 'logout' | 'failed' | 'locked';
  declare ip: string | null;
  declare user_agent: string | null;
  declare at: string;

  declare user?: User | null;

  static relationMappings = (): RelationMappings => ({
    user: belongsTo(User, 'login_events.user_id', 'users.id'),
  });
}

/** Failed sign-ins per (username as typed, client address), known usernames or not: no relation on purpose. */
export class LoginThrottle extends BankModel {
  static tableName = 'login_throttles';
  declare id: number;
  declare username: string;
  declare ip: string;
  declare failures: number;
  declare locks: number;
  declare locked_until: string | null;
  declare updated_at: string;
}

// ---- reference data ---------------------------------------------------------------------------

export class Branch extends BankModel {
  static tableName = 'branches';
  declare id: number;
  declare code: string;
  declare name: string;
  declare city: string;
  declare address: string | null;
  declare created_at: string;
  declare updated_at: string;

  declare accounts?: Account[];

  static relationMappings = (): RelationMappings => ({
    accounts: hasMany(Account, 'branches.code', 'accounts.branch'),
  });
}

export class AccountType extends BankModel {
  static tableName = 'account_types';
  declare id: number;
  declare code: string;
  declare name: string;
  declare min_balance: number;
  declare overdraft_limit: number;
  declare approval_threshold: number | null;
  declare created_at: string;
  declare updated_at: string;

  declare accounts?: Account[];
  declare rates?: InterestRate[];

  static relationMappings = (): RelationMappings => ({
    accounts: hasMany(Account, 'account_types.code', 'accounts.type'),
    rates: hasMany(InterestRate, 'account_types.code', 'interest_rates.account_type'),
  });
}

export class InterestRate extends BankModel {
  static tableName = 'interest_rates';
  declare id: number;
  declare account_type: string;
  declare annual_rate_micro: number;
  declare effective_from: string;
  declare created_by: number | null;
  declare created_at: string;

  declare accountType?: AccountType;
  declare creator?: User | null;

  static relationMappings = (): RelationMappings => ({
    accountType: belongsTo(AccountType, 'interest_rates.account_type', 'account_types.code'),
    creator: belongsTo(User, 'interest_rates.created_by', 'users.id'),
  });
}

// ---- accounts and the ledger ----------------------------------------------------------------------

export class Account extends BankModel {
  static tableName = 'accounts';
  declare id: number;
  declare number: string;
  declare kind: 'customer' | 'cash' | 'interest_expense' | 'suspense';
  declare internal_code: string | null;
  declare customer_id: number | null;
  /** account_types.code */
  declare type: string | null;
  /** branches.code */
  declare branch: string | null;
  declare currency: string;
  declare balance: number;
  declare held: number;
  declare status: 'active' | 'frozen' | 'closed';
  declare opened_at: string;
  declare closed_at: string | null;
  /** Who froze it (NULL unless frozen): the customer may lift only their own freeze. */
  declare frozen_by: 'customer' | 'bank' | null;
  /** Balance alerts on the account (bank/accounts/alerts.ts): none, and a posting skips the look-up. */
  declare alert_count: number;

  declare customer?: Customer | null;
  // Not `type`/`branch`: those names are the code columns.
  declare accountType?: AccountType | null;
  declare homeBranch?: Branch | null;
  declare entries?: Entry[];
  declare edits?: AccountEdit[];
  declare closure?: ClosedAccount | null;
  declare snapshots?: BalanceSnapshot[];
  declare accruals?: InterestAccrual[];
  declare postings?: InterestPosting[];
  declare outgoing?: Transaction[];
  declare incoming?: Transaction[];

  static relationMappings = (): RelationMappings => ({
    customer: belongsTo(Customer, 'accounts.customer_id', 'customers.id'),
    accountType: belongsTo(AccountType, 'accounts.type', 'account_types.code'),
    homeBranch: belongsTo(Branch, 'accounts.branch', 'branches.code'),
    entries: hasMany(Entry, 'accounts.id', 'entries.account_id'),
    edits: hasMany(AccountEdit, 'accounts.id', 'account_edits.account_id'),
    closure: hasOne(ClosedAccount, 'accounts.id', 'closed_accounts.account_id'),
    snapshots: hasMany(BalanceSnapshot, 'accounts.id', 'balance_snapshots.account_id'),
    accruals: hasMany(InterestAccrual, 'accounts.id', 'interest_accruals.account_id'),
    postings: hasMany(InterestPosting, 'accounts.id', 'interest_postings.account_id'),
    outgoing: hasMany(Transaction, 'accounts.id', 'transactions.from_account_id'),
    incoming: hasMany(Transaction, 'accounts.id', 'transactions.to_account_id'),
  });
}

export class AccountEdit extends BankModel {
  static tableName = 'account_edits';
  declare id: number;
  declare account_id: number;
  declare by: number | null;
  /** JSON text: {field: [before, after]}. */
  declare changes: string;
  declare note: string | null;
  declare at: string;

  declare account?: Account;
  declare editor?: User | null;

  static relationMappings = (): RelationMappings => ({
    account: belongsTo(Account, 'account_edits.account_id', 'accounts.id'),
    editor: belongsTo(User, 'account_edits.by', 'users.id'),
  });
}

export class ClosedAccount extends BankModel {
  static tableName = 'closed_accounts';
  declare id: number;
  declare account_id: number;
  declare closed_by: number | null;
  declare reason: string;
  /** JSON text. */
  declare snapshot: string;
  declare closed_at: string;

  declare account?: Account;
  declare closer?: User | null;

  static relationMappings = (): RelationMappings => ({
    account: belongsTo(Account, 'closed_accounts.account_id', 'accounts.id'),
    closer: belongsTo(User, 'closed_accounts.closed_by', 'users.id'),
  });
}

export class Transaction extends BankModel {
  static tableName = 'transactions';
  declare id: number;
  declare kind: 'deposit' | 'withdrawal' | 'transfer' | 'interest' | 'reversal';
  /** 'cancelled': the maker withdrew it while it waited for approval (0009). */
  declare status: 'posted' | 'pending_approval' | 'rejected' | 'cancelled';
  declare amount: number;
  declare currency: string;
  declare from_account_id: number | null;
  declare to_account_id: number | null;
  declare memo: string;
  declare external_ref: string | null;
  declare created_by: number | null;
  declare decided_by: number | null;
  declare decision_note: string | null;
  declare created_at: string;
  declare posted_at: string | null;
  declare decided_at: string | null;
  /** A reversal: the transaction it reverses. */
  declare reversal_of: number | null;
  /** A reversed transaction: its posted reversal. */
  declare reversed_by: number | null;

  declare entries?: Entry[];
  declare fromAccount?: Account | null;
  declare toAccount?: Account | null;
  declare creator?: User | null;
  declare decider?: User | null;
  declare reversed?: Transaction | null;
  declare reversal?: Transaction | null;

  static relationMappings = (): RelationMappings => ({
    entries: hasMany(Entry, 'transactions.id', 'entries.transaction_id'),
    fromAccount: belongsTo(Account, 'transactions.from_account_id', 'accounts.id'),
    toAccount: belongsTo(Account, 'transactions.to_account_id', 'accounts.id'),
    creator: belongsTo(User, 'transactions.created_by', 'users.id'),
    decider: belongsTo(User, 'transactions.decided_by', 'users.id'),
    reversed: belongsTo(Transaction, 'transactions.reversal_of', 'transactions.id'),
    reversal: belongsTo(Transaction, 'transactions.reversed_by', 'transactions.id'),
  });
}

export class Entry extends BankModel {
  static tableName = 'entries';
  declare id: number;
  declare transaction_id: number;
  declare account_id: number;
  declare amount: number;
  declare balance_after: number;
  declare at: string;

  declare transaction?: Transaction;
  declare account?: Account;

  static relationMappings = (): RelationMappings => ({
    transaction: belongsTo(Transaction, 'entries.transaction_id', 'transactions.id'),
    account: belongsTo(Account, 'entries.account_id', 'accounts.id'),
  });
}

export class BalanceSnapshot extends BankModel {
  static tableName = 'balance_snapshots';
  static idColumn = ['account_id', 'date'];
  declare account_id: number;
  declare date: string;
  declare balance: number;
  declare created_at: string;

  declare account?: Account;

  static relationMappings = (): RelationMappings => ({
    account: belongsTo(Account, 'balance_snapshots.account_id', 'accounts.id'),
  });
}

export class InterestAccrual extends BankModel {
  static tableName = 'interest_accruals';
  static idColumn = ['account_id', 'date'];
  declare account_id: number;
  declare date: string;
  declare accrued_micro: number;
  declare closing_balance: number;
  declare annual_rate_micro: number;
  declare posted_transaction_id: number | null;
  declare created_at: string;

  declare account?: Account;
  declare postedTransaction?: Transaction | null;

  static relationMappings = (): RelationMappings => ({
    account: belongsTo(Account, 'interest_accruals.account_id', 'accounts.id'),
    postedTransaction: belongsTo(Transaction, 'interest_accruals.posted_transaction_id', 'transactions.id'),
  });
}

export class InterestPosting extends BankModel {
  static tableName = 'interest_postings';
  static idColumn = ['account_id', 'period'];
  declare account_id: number;
  /** 'YYYY-MM' */
  declare period: string;
  declare accrued_micro: number;
  declare carry_in_micro: number;
  declare posted_minor: number;
  declare carry_out_micro: number;
  declare transaction_id: number | null;
  declare created_at: string;

  declare account?: Account;
  declare transaction?: Transaction | null;

  static relationMappings = (): RelationMappings => ({
    account: belongsTo(Account, 'interest_postings.account_id', 'accounts.id'),
    transaction: belongsTo(Transaction, 'interest_postings.transaction_id', 'transactions.id'),
  });
}

export class IdempotencyKey extends BankModel {
  static tableName = 'idempotency_keys';
  declare id: number;
  declare scope: string;
  declare key: string;
  declare request_hash: string;
  declare state: 'in_flight' | 'done';
  declare response_status: number | null;
  declare response_body: string | null;
  declare created_at: string;
  declare expires_at: string;
}

// ---- support and messages -------------------------------------------------------------------------

export class Ticket extends BankModel {
  static tableName = 'tickets';
  declare id: number;
  declare customer_id: number;
  declare category: 'account' | 'card' | 'transaction' | 'security' | 'general';
  declare subject: string;
  declare status: 'open' | 'in_progress' | 'resolved' | 'closed';
  declare priority: 'low' | 'normal' | 'high' | 'urgent';
  declare assignee_id: number | null;
  declare resolution: string | null;
  declare escalation_level: number;
  declare escalated_at: string | null;
  declare created_at: string;
  declare updated_at: string;
  declare first_response_due_at: string | null;
  declare resolution_due_at: string | null;
  declare first_responded_at: string | null;
  declare breached: Bool;
  declare breached_at: string | null;

  declare messages?: TicketMessage[];
  declare customer?: Customer;
  declare assignee?: User | null;

  static relationMappings = (): RelationMappings => ({
    messages: hasMany(TicketMessage, 'tickets.id', 'ticket_messages.ticket_id'),
    customer: belongsTo(Customer, 'tickets.customer_id', 'customers.id'),
    assignee: belongsTo(User, 'tickets.assignee_id', 'users.id'),
  });
}

export class TicketMessage extends BankModel {
  static tableName = 'ticket_messages';
  declare id: number;
  declare ticket_id: number;
  declare author_id: number;
  declare author_role: 'customer' | 'teller' | 'manager' | 'admin';
  declare body: string;
  declare at: string;
  declare internal: Bool;

  declare ticket?: Ticket;
  declare author?: User;

  static relationMappings = (): RelationMappings => ({
    ticket: belongsTo(Ticket, 'ticket_messages.ticket_id', 'tickets.id'),
    author: belongsTo(User, 'ticket_messages.author_id', 'users.id'),
  });
}

export class Announcement extends BankModel {
  static tableName = 'announcements';
  declare id: number;
  declare title: string;
  declare message: string;
  declare audience: 'all' | 'customers' | 'staff';
  declare active: Bool;
  declare published_at: string;
  declare expires_at: string | null;
  declare withdrawn_at: string | null;
  declare created_by: number | null;
  declare created_at: string;
  declare updated_at: string;

  declare creator?: User | null;

  static relationMappings = (): RelationMappings => ({
    creator: belongsTo(User, 'announcements.created_by', 'users.id'),
  });
}

export class Notification extends BankModel {
  static tableName = 'notifications';
  declare id: number;
  declare user_id: number;
  declare kind: string;
  declare title: string;
  declare body: string;
  declare read_at: string | null;
  declare created_at: string;

  declare user?: User;

  static relationMappings = (): RelationMappings => ({
    user: belongsTo(User, 'notifications.user_id', 'users.id'),
  });
}

// ---- everyday banking: payees, standing orders, alerts -------------------------------------------

export class Payee extends BankModel {
  static tableName = 'payees';
  declare id: number;
  declare customer_id: number;
  declare account_id: number;
  declare nickname: string;
  declare created_by: number | null;
  declare created_at: string;

  declare customer?: Customer;
  declare account?: Account;
  declare creator?: User | null;

  static relationMappings = (): RelationMappings => ({
    customer: belongsTo(Customer, 'payees.customer_id', 'customers.id'),
    account: belongsTo(Account, 'payees.account_id', 'accounts.id'),
    creator: belongsTo(User, 'payees.created_by', 'users.id'),
  });
}

/** One confirmation-of-payee look-up (the per-user rate limit counts these). */
export class PayeeLookup extends BankModel {
  static tableName = 'payee_lookups';
  declare id: number;
  declare user_id: number;
  declare account_number: string;
  declare found: Bool;
  declare at: string;

  declare user?: User;

  static relationMappings = (): RelationMappings => ({
    user: belongsTo(User, 'payee_lookups.user_id', 'users.id'),
  });
}

export class StandingOrder extends BankModel {
  static tableName = 'standing_orders';
  declare id: number;
  declare from_account_id: number;
  declare to_account_id: number;
  declare amount: number;
  declare currency: string;
  declare memo: string;
  declare frequency: 'once' | 'daily' | 'weekly' | 'monthly';
  declare start_date: string;
  declare end_date: string | null;
  declare day_of_month: number;
  declare next_run_date: string | null;
  declare status: 'active' | 'paused' | 'cancelled' | 'completed';
  declare created_by: number | null;
  declare created_at: string;
  declare updated_at: string;

  declare fromAccount?: Account;
  declare toAccount?: Account;
  declare creator?: User | null;
  declare runs?: StandingOrderRun[];

  static relationMappings = (): RelationMappings => ({
    fromAccount: belongsTo(Account, 'standing_orders.from_account_id', 'accounts.id'),
    toAccount: belongsTo(Account, 'standing_orders.to_account_id', 'accounts.id'),
    creator: belongsTo(User, 'standing_orders.created_by', 'users.id'),
    runs: hasMany(StandingOrderRun, 'standing_orders.id', 'standing_order_runs.standing_order_id'),
  });
}

export class StandingOrderRun extends BankModel {
  static tableName = 'standing_order_runs';
  declare id: number;
  declare standing_order_id: number;
  declare date: string;
  declare status: 'posted' | 'pending_approval' | 'failed';
  declare transaction_id: number | null;
  declare error_code: string | null;
  declare error_message: string | null;
  declare created_at: string;

  declare order?: StandingOrder;
  declare transaction?: Transaction | null;

  static relationMappings = (): RelationMappings => ({
    order: belongsTo(StandingOrder, 'standing_order_runs.standing_order_id', 'standing_orders.id'),
    transaction: belongsTo(Transaction, 'standing_order_runs.transaction_id', 'transactions.id'),
  });
}

export class BalanceAlert extends BankModel {
  static tableName = 'balance_alerts';
  declare id: number;
  declare account_id: number;
  declare kind: 'balance_below' | 'balance_above' | 'debit_over' | 'credit_over';
  declare threshold: number;
  declare active: Bool;
  declare created_by: number | null;
  declare last_triggered_at: string | null;
  declare created_at: string;

  declare account?: Account;
  declare creator?: User | null;

  static relationMappings = (): RelationMappings => ({
    account: belongsTo(Account, 'balance_alerts.account_id', 'accounts.id'),
    creator: belongsTo(User, 'balance_alerts.created_by', 'users.id'),
  });
}

// ---- audit, outbox, jobs ---------------------------------------------------------------------------

/** A row of the audit hash chains. actor_id is a user id but deliberately no foreign key. */
export class AuditEntry extends BankModel {
  static tableName = 'audit_log';
  declare id: number;
  declare chain: number;
  declare actor_id: number | null;
  declare action: string;
  declare entity: string;
  declare entity_id: string | null;
  /** JSON text. */
  declare before: string | null;
  /** JSON text. */
  declare after: string | null;
  declare ip: string | null;
  declare at: string;
  declare prev_hash: string;
  declare hash: string;
}

export class AuditHead extends BankModel {
  static tableName = 'audit_heads';
  static idColumn = 'chain';
  declare chain: number;
  declare last_id: number | null;
  declare last_hash: string;
  declare length: number;
}

/** An outbox event (table events). */
export class OutboxEvent extends BankModel {
  static tableName = 'events';
  static idColumn = 'seq';
  declare seq: number;
  declare type: string;
  /** JSON text. */
  declare payload: string;
  declare created_at: string;
  declare published_at: string | null;

  declare rooms?: EventRoom[];

  static relationMappings = (): RelationMappings => ({
    rooms: hasMany(EventRoom, 'events.seq', 'event_rooms.seq'),
  });
}

export class EventRoom extends BankModel {
  static tableName = 'event_rooms';
  static idColumn = ['room', 'seq'];
  declare seq: number;
  declare room: string;

  declare event?: OutboxEvent;

  static relationMappings = (): RelationMappings => ({
    event: belongsTo(OutboxEvent, 'event_rooms.seq', 'events.seq'),
  });
}

export class MailOutbox extends BankModel {
  static tableName = 'mail_outbox';
  declare id: number;
  declare dedupe_key: string;
  declare kind: string;
  declare customer_id: number | null;
  declare to_address: string;
  declare subject: string;
  declare body: string;
  declare status: 'pending' | 'sent' | 'failed';
  declare attempts: number;
  declare next_attempt_at: string;
  declare last_error: string | null;
  declare message_id: string | null;
  declare created_at: string;
  declare updated_at: string;
  declare sent_at: string | null;

  declare customer?: Customer | null;

  static relationMappings = (): RelationMappings => ({
    customer: belongsTo(Customer, 'mail_outbox.customer_id', 'customers.id'),
  });
}

export class JobCursor extends BankModel {
  static tableName = 'job_cursors';
  static idColumn = 'name';
  declare name: string;
  declare position: number;
  declare updated_at: string;
}

export class CannedReply extends BankModel {
  static tableName = 'canned_replies';
  declare id: number;
  declare title: string;
  declare body: string;
  declare created_by: number;
  declare created_at: string;
  declare updated_at: string;

  declare creator?: User;

  static relationMappings = (): RelationMappings => ({
    creator: belongsTo(User, 'canned_replies.created_by', 'users.id'),
  });
}

// ---- webhooks ----------------------------------------------------------------------------------------

export class WebhookEndpoint extends BankModel {
  static tableName = 'webhook_endpoints';
  declare id: number;
  declare url: string;
  declare description: string | null;
  /** JSON array of event names. */
  declare events: string;
  declare secret: string;
  declare active: Bool;
  declare after_seq: number;
  declare created_at: string;
  declare updated_at: string;
  declare deleted_at: string | null;

  declare deliveries?: WebhookDelivery[];

  static relationMappings = (): RelationMappings => ({
    deliveries: hasMany(WebhookDelivery, 'webhook_endpoints.id', 'webhook_deliveries.endpoint_id'),
  });
}

export class WebhookDelivery extends BankModel {
  static tableName = 'webhook_deliveries';
  declare id: number;
  declare endpoint_id: number;
  declare seq: number;
  declare event: string;
  declare status: 'pending' | 'delivered' | 'failed';
  declare attempts: number;
  declare last_status_code: number | null;
  declare last_error: string | null;
  declare next_attempt_at: string | null;
  declare locked_until: string | null;
  declare give_up_at: string;
  declare delivered_at: string | null;
  declare created_at: string;
  declare updated_at: string;

  declare endpoint?: WebhookEndpoint;

  static relationMappings = (): RelationMappings => ({
    endpoint: belongsTo(WebhookEndpoint, 'webhook_deliveries.endpoint_id', 'webhook_endpoints.id'),
  });
}

export const MODELS = [
  User,
  Session,
  LoginEvent,
  LoginThrottle,
  Customer,
  Address,
  Branch,
  AccountType,
  InterestRate,
  Account,
  AccountEdit,
  ClosedAccount,
  Transaction,
  Entry,
  BalanceSnapshot,
  InterestAccrual,
  InterestPosting,
  IdempotencyKey,
  Ticket,
  TicketMessage,
  Announcement,
  Notification,
  AuditEntry,
  AuditHead,
  OutboxEvent,
  EventRoom,
  MailOutbox,
  JobCursor,
  CannedReply,
  WebhookEndpoint,
  WebhookDelivery,
  Payee,
  PayeeLookup,
  StandingOrder,
  StandingOrderRun,
  BalanceAlert,
] as const;

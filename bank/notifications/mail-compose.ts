// Composing mail to customers: the subject and body of each kind of mail (a notification worth
// an email, a large transaction, a sign-in from a new device, a statement that is ready), built
// from the rows the collector (mail-collect.ts) found, with the greeting and the signature
// every mail shares. Pure functions over plain values: no queries, no sending. QueuedMail, the
// mail they produce, is what mail-collect.ts queues as a mail_outbox row.
import type { TransactionDto } from '../ledger/journal.js';
import { formatAmount } from '../core/money.js';
import type { Account, Customer, LoginEvent, Notification, Row } from '../../db/models.js';

export interface QueuedMail {
  dedupeKey: string;
  kind: string;
  customerId: number;
  to: string;
  subject: string;
  body: string;
}

/** Who a mail goes to: a customer (only customers have an address). */
export type Addressee = Pick<Row<Customer>, 'id' | 'email' | 'first_name'>;
/** The addressee's columns selected beside another table's row, the customer id as customer_id. */
type JoinedAddressee = { customer_id: Row<Customer>['id'] } & Pick<Row<Customer>, 'email' | 'first_name'>;

const greeting = (firstName: string | null | undefined) => `Dear ${firstName || 'customer'},\n\n`;
const SIGNATURE = '\n\n-- \nBanking Hub. This message was sent automatically; do not reply to it.\n';

/** A notification, mailed as it was written for the app. */
export function notificationMail(n: Pick<Row<Notification>, 'id' | 'kind' | 'title' | 'body'> & JoinedAddressee): QueuedMail {
  return {
    dedupeKey: `notification:${n.id}`,
    kind: n.kind,
    customerId: n.customer_id,
    to: n.email,
    subject: n.title,
    body: `${greeting(n.first_name)}${n.body}${SIGNATURE}`,
  };
}

/** A large deposit, withdrawal or transfer, to one customer party of it. */
export function largeTransactionMail(c: Addressee, transaction: TransactionDto): QueuedMail {
  const what =
    transaction.kind === 'transfer'
      ? `A transfer of ${transaction.amount} ${transaction.currency} from account ${transaction.fromAccountNumber} to account ${transaction.toAccountNumber}`
      : transaction.kind === 'deposit'
        ? `A deposit of ${transaction.amount} ${transaction.currency} to account ${transaction.toAccountNumber}`
        : `A withdrawal of ${transaction.amount} ${transaction.currency} from account ${transaction.fromAccountNumber}`;
  return {
    dedupeKey: `tx:${transaction.id}:customer:${c.id}`,
    kind: 'large_transaction',
    customerId: c.id,
    to: c.email,
    subject: `Large ${transaction.kind}: ${transaction.amount} ${transaction.currency}`,
    body: `${greeting(c.first_name)}${what} was posted at ${transaction.postedAt ?? transaction.createdAt} (transaction ${transaction.id}${transaction.memo ? `, "${transaction.memo}"` : ''}).\nIf you do not recognise it, contact the bank at once.${SIGNATURE}`,
  };
}

/** A sign-in (a login_events row) from an (ip, user agent) pair the user never signed in from before. */
export function newDeviceLoginMail(l: Pick<Row<LoginEvent>, 'id' | 'ip' | 'user_agent' | 'at' | 'username'> & JoinedAddressee): QueuedMail {
  return {
    dedupeKey: `login:${l.id}`,
    kind: 'new_device_login',
    customerId: l.customer_id,
    to: l.email,
    subject: 'New sign-in to your account',
    body:
      `${greeting(l.first_name)}Your login ${l.username} signed in from a device we have not seen before, at ${l.at}.\n` +
      `Address: ${l.ip ?? 'unknown'}\nBrowser: ${l.user_agent ?? 'unknown'}\n\nIf this was not you, change your password and contact the bank.${SIGNATURE}`,
  };
}

/** One account's line in a statement mail: its closing balance for the month, in minor units. */
export type ClosingBalance = Pick<Row<Account>, 'number' | 'currency'> & { closingBalance: number };

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const monthName = (period: string) => `${MONTHS[Number(period.slice(5, 7)) - 1]} ${period.slice(0, 4)}`;

/** "Your statement is ready" for one customer and month (YYYY-MM), listing each account's closing balance. */
export function statementMail(c: Addressee, period: string, accounts: ClosingBalance[]): QueuedMail {
  const lines = accounts.map((a) => `  ${a.number}: closing balance ${formatAmount(a.closingBalance, a.currency)} ${a.currency}`);
  return {
    dedupeKey: `statement:${c.id}:${period}`,
    kind: 'statement_ready',
    customerId: c.id,
    to: c.email,
    subject: `Your statement for ${monthName(period)} is ready`,
    body: `${greeting(c.first_name)}Your statement for ${monthName(period)} is ready in the app.\n\n${lines.join('\n')}${SIGNATURE}`,
  };
}

// Every error shown to people, in plain words, and which form field it belongs to. The API's
// own message is never shown: it is written for developers ("floor: 1000.00", "fields: phone").

import { ApiError } from './api';
import { formatMoney, isNegative, sumAmounts } from './money';

export interface Wording {
  /** One sentence for the person. */
  message: string;
  /** The form field it concerns (the API's field name: amount, toAccountNumber, phone…), if any. */
  field?: string;
  /** Several fields at once (a form refused for more than one reason): field → sentence. */
  fields?: Record<string, string>;
}

export interface WordingContext {
  /** Currency for amounts in the error's details (default INR). */
  currency?: string;
  /** "now", for "in 12 minutes"; tests pass a fixed clock. */
  now?: number;
  /** What the person was doing, when the generic wording needs it ("cancel" → "can no longer be cancelled"). */
  action?: 'cancel' | 'approve' | 'reject';
}

/** Plain words for each field the API may name in `details.fields`. */
const FIELD_HELP: Record<string, string> = {
  amount: 'Enter an amount greater than zero, like 1250.50.',
  toAccountNumber: 'Enter the 12-digit account number you are paying.',
  fromAccountId: 'Choose the account to pay from.',
  accountId: 'Choose an account.',
  phone: 'Enter a phone number with its country code, like +91 98765 43210.',
  email: 'Enter an email address, like name@example.com.',
  dateOfBirth: 'Enter the date of birth as a date in the past.',
  firstName: 'Enter the first name.',
  lastName: 'Enter the last name.',
  postalCode: 'Enter the postal code.',
  line1: 'Enter the first line of the address.',
  city: 'Enter the city.',
  country: 'Choose the country.',
  username: 'Choose a username of letters and digits.',
  password: 'Choose a longer password (at least 10 characters).',
  newPassword: 'Choose a longer password (at least 10 characters).',
  currentPassword: 'Enter your current password.',
  memo: 'Keep the note under 140 characters.',
  startDate: 'The first payment date cannot be in the past.',
  endDate: 'The last payment date must be on or after the first.',
  nickname: 'Give the payee a name you will recognise.',
  threshold: 'Enter an amount greater than zero, like 1250.50.',
  note: 'Keep the note under 500 characters.',
  reason: 'Say why, in a few words.',
  subject: 'Enter a subject.',
  body: 'Write a message.',
  otp: 'Enter the 6-digit code from your authenticator app.',
  code: 'Enter a short code of capital letters and digits.',
  name: 'Enter a name.',
  annualRate: 'Enter the yearly rate in percent, like 3.50.',
  effectiveFrom: 'Choose a date from today on.',
  minBalance: 'Enter an amount, like 1000.',
  overdraftLimit: 'Enter an amount, like 0.',
  approvalThreshold: 'Enter an amount, or leave it empty for no approval.',
  from: 'Choose a start date on or before the end date.',
  to: 'Choose an end date on or after the start date.',
  minAmount: 'Enter an amount, like 100.',
  maxAmount: 'Enter an amount, like 5000.',
};

/** "in 14 minutes" / "in 40 seconds" / "at 11:36 pm" for a moment in the future. */
export function whenInWords(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'later';
  const s = Math.max(0, Math.round((t - now) / 1000));
  const clock = new Date(t).toLocaleTimeString('en-IN', { hour: 'numeric', minute: '2-digit' });
  if (s < 60) return `in ${s} second${s === 1 ? '' : 's'}`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `in ${m} minute${m === 1 ? '' : 's'} (at ${clock})`;
  return `at ${clock}`;
}

const masked = (n: unknown) => (typeof n === 'string' && n.length >= 4 ? `ending ${n.slice(-4)}` : '');

function fieldNames(details: unknown): string[] {
  const d = details as { fields?: unknown; issues?: Array<{ path?: unknown }> } | null;
  const names = new Set<string>();
  if (d && Array.isArray(d.fields)) for (const f of d.fields) if (typeof f === 'string') names.add(f);
  if (d && Array.isArray(d.issues)) for (const i of d.issues) if (typeof i.path === 'string' && i.path) names.add(i.path);
  // "address.postalCode" → "postalCode"; "(body)" means the whole form.
  return [...names].map((f) => f.split('.').pop() ?? f).filter((f) => f && f !== '(body)');
}

/** The error, in words for people, with the field it belongs to. */
export function describeError(err: unknown, ctx: WordingContext = {}): Wording {
  if (!err) return { message: '' };
  if (!(err instanceof ApiError)) {
    if (err instanceof DOMException && err.name === 'AbortError') return { message: '' };
    return { message: 'Something went wrong. Please try again.' };
  }
  const cur = ctx.currency ?? 'INR';
  const d = (err.details ?? {}) as Record<string, unknown>;
  switch (err.code) {
    case 'insufficient_funds': {
      const available = typeof d.available === 'string' ? d.available : null;
      const floor = typeof d.floor === 'string' ? d.floor : '0';
      if (!available) return { message: 'There is not enough money in the account for this.', field: 'amount' };
      const room = sumAmounts([available, isNegative(floor) ? floor.slice(1) : `-${floor}`]);
      if (isNegative(room) || /^0(\.0+)?$/.test(room)) {
        return {
          message: `There is not enough money for this: the account must keep at least ${formatMoney(floor, cur)}.`,
          field: 'amount',
        };
      }
      return { message: `You can send up to ${formatMoney(room, cur)} from this account.`, field: 'amount' };
    }
    case 'invalid_amount':
      return { message: FIELD_HELP.amount, field: fieldNames(err.details)[0] ?? 'amount' };
    case 'account_frozen':
      return {
        message:
          `The account ${masked(d.accountNumber)} is frozen, so money cannot ${d.direction === 'credit' ? 'be paid into' : 'leave'} it.`.replace(
            '  ',
            ' ',
          ),
      };
    case 'account_closed':
      return { message: `The account ${masked(d.accountNumber)} is closed.`.replace('  ', ' ') };
    case 'currency_mismatch':
      return {
        message: 'The two accounts hold different currencies; money can only move between accounts in the same currency.',
        field: 'toAccountNumber',
      };
    case 'same_account':
      return { message: 'You are paying the account the money comes from. Choose a different account to pay.', field: 'toAccountNumber' };
    case 'limit_exceeded':
      return { message: 'This is more than can be sent at once. Try a smaller amount.', field: 'amount' };
    case 'already_reversed':
      return { message: 'This transaction has already been reversed, or a reversal is waiting for approval.' };
    case 'nonzero_balance':
      return { message: 'An account can only be closed once its balance is zero. Pay out or transfer the money first.' };
    case 'idempotency_mismatch':
      return { message: 'This request was already used for something different. Start again from the form.' };
    case 'idempotency_in_flight':
      return { message: 'Your earlier attempt is still being processed. Wait a moment and check the account before trying again.' };
    case 'conflict':
      if (ctx.action === 'cancel')
        return { message: 'This transfer can no longer be cancelled: it has already been approved, rejected or cancelled.' };
      return { message: 'Someone else changed this a moment ago. Look at the latest version and try again.' };
    case 'not_found':
      if (/destination/i.test(err.message))
        return { message: 'No account with that number can receive money. Check the number and try again.', field: 'toAccountNumber' };
      return { message: 'We could not find that. It may have been removed, or you may not have access to it.' };
    case 'forbidden':
      return { message: 'Your role does not allow this. Ask a colleague with the right role.' };
    case 'unauthenticated':
      return { message: 'Your session has ended. Please sign in again.' };
    case 'invalid_credentials':
      return { message: 'That username and password do not match. Check them and try again.', field: 'password' };
    case 'otp_required':
      return { message: 'Enter the 6-digit code from your authenticator app.', field: 'otp' };
    case 'invalid_otp':
      return { message: 'That code is not right, or it was already used. Wait for the next code and try again.', field: 'otp' };
    case 'account_locked': {
      const until = typeof d.lockedUntil === 'string' ? d.lockedUntil : null;
      return {
        message: `Too many wrong passwords, so signing in is paused. You can try again ${until ? whenInWords(until, ctx.now) : 'later'}.`,
      };
    }
    case 'rate_limited': {
      const s = err.retryAfter ?? (typeof d.retryAfterSeconds === 'number' ? d.retryAfterSeconds : null);
      return { message: `Too many attempts in a short time. Try again ${s ? `in ${s} second${s === 1 ? '' : 's'}` : 'in a minute'}.` };
    }
    case 'network_error':
      return { message: 'Could not reach the bank. Check your connection and try again.' };
    case 'invalid_request': {
      const names = fieldNames(err.details);
      if (!names.length) return { message: 'Some details are missing or not in the expected form. Check the form and try again.' };
      const fields = Object.fromEntries(names.map((f) => [f, FIELD_HELP[f] ?? 'Please check this.']));
      const first = names[0];
      return {
        message: names.length === 1 ? fields[first] : 'Some details need another look: see the highlighted fields.',
        field: first,
        fields,
      };
    }
    default:
      if (err.status >= 500) return { message: 'Something went wrong on our side. Please try again in a moment.' };
      return { message: 'That did not work. Please try again.' };
  }
}

/** The words for one field of a form, from the last error (or nothing). */
export function fieldError(err: unknown, field: string, ctx: WordingContext = {}): string | null {
  if (!err) return null;
  const w = describeError(err, ctx);
  if (w.fields?.[field]) return w.fields[field];
  return w.field === field ? w.message : null;
}

/** Anything thrown, as one sentence for people. */
export function errorMessage(err: unknown, ctx: WordingContext = {}): string {
  return describeError(err, ctx).message;
}

/** Sentences for each field a refused form names (for a list under the form's message). */
export function errorDetails(err: unknown, ctx: WordingContext = {}): string[] {
  const w = describeError(err, ctx);
  return w.fields && Object.keys(w.fields).length > 1 ? [...new Set(Object.values(w.fields))] : [];
}

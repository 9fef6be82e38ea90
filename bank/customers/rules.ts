// The rules a customer's fields and addresses must follow, and the shapes of that input: the
// column widths (LIMITS), the email, phone and postal-code patterns, the birth-date and country
// checks, and the field-by-field checks that collect every problem of a request into one
// `invalid` error. The REST schemas (rest/routes/customers.ts) use the same rules, through
// bank/customers/index.ts, so a request and the domain never disagree on what is valid.
import { Invalid } from '../core/errors.js';
import type { AddressInput as SharedAddressInput } from '../../shared/api.js';
import { isCountryCode } from './countries.js';
import { isRealDate } from '../ledger/rates.js';
import { hasControl } from '../core/checks.js';

// ---- rules (the REST schemas use the same ones) ----------------------------------------

/** Column widths of customers and addresses (db/migrations/0001_bank.ts). */
export const LIMITS = {
  firstName: 100,
  lastName: 100,
  email: 254,
  phone: 20,
  line1: 200,
  line2: 200,
  city: 100,
  state: 100,
  postalCode: 20,
} as const;

export const EMAIL_RE =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}$/;
/** E.164-ish: an optional +, then digits with spaces or dashes between them; 7 to 15 digits. */
export const PHONE_RE = /^\+?\d(?:[\d -]*\d)?$/;
export const POSTAL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9 -]*[A-Za-z0-9])?$/;
export const EARLIEST_BIRTH_DATE = '1900-01-01';

export const isEmail = (s: string) => s.length <= LIMITS.email && EMAIL_RE.test(s);
export function isPhone(s: string): boolean {
  const digits = s.replace(/\D/g, '').length;
  return s.length >= 7 && s.length <= LIMITS.phone && PHONE_RE.test(s) && digits >= 7 && digits <= 15;
}
export const isPostalCode = (s: string) => s.length <= LIMITS.postalCode && POSTAL_RE.test(s);
/** A real date from 1900 on, strictly before today. */
export const isBirthDate = (s: string, today: string) => isRealDate(s) && s >= EARLIEST_BIRTH_DATE && s < today;
export const isCountry = (s: string) => /^[A-Z]{2}$/.test(s) && isCountryCode(s);

// ---- the input the rules check ---------------------------------------------------------------

export interface CustomerFields {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  dateOfBirth: string;
}

/** An address as it is sent: shared/api.ts defines it for the server and the client. */
export type AddressInput = SharedAddressInput;

export interface NewCustomer extends CustomerFields {
  address: AddressInput;
  login?: { username: string; password: string };
}

// ---- checks: every problem of a request, then one error ---------------------------------------

export type Problems = Map<string, string>;

function text(p: Problems, field: string, v: unknown, max: number, opts: { optional?: boolean } = {}) {
  if (v === undefined || v === null) {
    if (!opts.optional) p.set(field, 'is required');
    return;
  }
  if (typeof v !== 'string') p.set(field, 'must be a string');
  else if (!v.trim() && !opts.optional) p.set(field, 'must not be blank');
  else if (v.length > max) p.set(field, `must be at most ${max} characters`);
  else if (hasControl(v)) p.set(field, 'must not contain control characters');
}

export function raise(p: Problems) {
  if (!p.size) return;
  const fields = [...p.keys()];
  throw new Invalid(`Invalid ${fields.map((f) => `${f} (${p.get(f)})`).join(', ')}`, { fields });
}

/** Checks the customer fields present in `c` (all of them when `partial` is false). */
export function checkPerson(p: Problems, c: Partial<CustomerFields>, today: string, partial: boolean) {
  const has = (k: keyof CustomerFields) => !partial || c[k] !== undefined;
  if (has('firstName')) text(p, 'firstName', c.firstName, LIMITS.firstName);
  if (has('lastName')) text(p, 'lastName', c.lastName, LIMITS.lastName);
  if (has('email') && !(typeof c.email === 'string' && isEmail(c.email))) p.set('email', 'must be an email address');
  if (has('phone') && !(typeof c.phone === 'string' && isPhone(c.phone)))
    p.set('phone', 'must be a phone number: +, digits, spaces or dashes, 7-15 digits');
  if (has('dateOfBirth') && !(typeof c.dateOfBirth === 'string' && isBirthDate(c.dateOfBirth, today)))
    p.set('dateOfBirth', `must be a real past date YYYY-MM-DD from ${EARLIEST_BIRTH_DATE} on`);
}

export function checkAddress(p: Problems, a: Partial<AddressInput> | undefined, prefix: string, partial: boolean) {
  if (!a || typeof a !== 'object') {
    p.set(prefix.replace(/\.$/, '') || 'address', 'is required');
    return;
  }
  const has = (k: keyof AddressInput) => !partial || a[k] !== undefined;
  if (has('line1')) text(p, `${prefix}line1`, a.line1, LIMITS.line1);
  if (a.line2 !== undefined) text(p, `${prefix}line2`, a.line2, LIMITS.line2, { optional: true });
  if (has('city')) text(p, `${prefix}city`, a.city, LIMITS.city);
  if (a.state !== undefined) text(p, `${prefix}state`, a.state, LIMITS.state, { optional: true });
  if (has('postalCode') && !(typeof a.postalCode === 'string' && isPostalCode(a.postalCode)))
    p.set(`${prefix}postalCode`, 'must be letters, digits, spaces or dashes, at most 20');
  if (has('country') && !(typeof a.country === 'string' && isCountry(a.country)))
    p.set(`${prefix}country`, 'must be an ISO 3166 alpha-2 code such as IN');
}

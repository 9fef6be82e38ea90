import type { Knex } from 'knex';
import { createBankContext, SYSTEM, type Actor, type BankContext, type Role } from '../../bank/core/context.js';
import { ensureBankAccounts } from '../../bank/accounts/records.js';
import { openAccount } from '../../bank/accounts/operations.js';
import { createUserIn } from '../../bank/access/user-records.js';
import { createSessionIn } from '../../bank/access/sessions.js';
import { hashPassword } from '../../bank/access/passwords.js';
import { withTx } from '../../bank/core/db-tx.js';
import { DomainError } from '../../bank/core/errors.js';

export const TEST_PASSWORD = 'correct-horse-42';
let hashed: Promise<string> | null = null;
export const testPasswordHash = () => (hashed ??= hashPassword(TEST_PASSWORD));

export async function bankOn(db: Knex, currency = 'INR'): Promise<BankContext> {
  const bank = createBankContext(db, { currency });
  await ensureBankAccounts(bank, currency);
  return bank;
}

/**
 * Reference data most tests need: branch MAIN, and account types
 *  SAV  minimum balance 100.00, no overdraft, approvals above 50,000.00
 *  CUR  no minimum, overdraft 500.00, no approvals
 *  BIZ  no minimum, no overdraft, approvals above 10,000.00
 */
export async function seedReference(db: Knex): Promise<void> {
  const now = new Date().toISOString();
  await db('branches').insert({
    code: 'MAIN',
    name: 'Main branch',
    city: 'Mumbai',
    address: '1 Bank Street',
    created_at: now,
    updated_at: now,
  });
  await db('account_types').insert([
    {
      code: 'SAV',
      name: 'Savings',
      min_balance: 10_000,
      overdraft_limit: 0,
      approval_threshold: 5_000_000,
      created_at: now,
      updated_at: now,
    },
    { code: 'CUR', name: 'Current', min_balance: 0, overdraft_limit: 50_000, approval_threshold: null, created_at: now, updated_at: now },
    { code: 'BIZ', name: 'Business', min_balance: 0, overdraft_limit: 0, approval_threshold: 1_000_000, created_at: now, updated_at: now },
  ]);
  await db('interest_rates').insert([
    { account_type: 'SAV', annual_rate_micro: 3_500_000, effective_from: '2020-01-01', created_at: now },
    { account_type: 'CUR', annual_rate_micro: 0, effective_from: '2020-01-01', created_at: now },
  ]);
}

let n = 0;
export async function createCustomer(db: Knex, name = `Cust${++n}`): Promise<number> {
  const now = new Date().toISOString();
  const [row] = await db('customers').insert(
    {
      first_name: name,
      last_name: 'Test',
      email: `${name.toLowerCase()}@example.com`,
      phone: '+911234567890',
      date_of_birth: '1990-01-01',
      created_at: now,
      updated_at: now,
    },
    ['id'],
  );
  return typeof row === 'object' ? row.id : row;
}

export const TELLER: Actor = { userId: null, role: 'teller', customerId: null };
export const MANAGER: Actor = { userId: null, role: 'manager', customerId: null };

export async function openTestAccount(bank: BankContext, customerId: number, type = 'CUR', currency?: string) {
  return openAccount(bank, SYSTEM, { customerId, type, branch: 'MAIN', currency });
}

/** A user with a live session: its bearer token, for API tests. */
export async function userWithSession(bank: BankContext, role: Role, opts: { customerId?: number; username?: string } = {}) {
  const passwordHash = await testPasswordHash();
  return withTx(bank, async (t) => {
    const user = await createUserIn(t, SYSTEM, {
      username: opts.username ?? `${role}${++n}${Math.random().toString(36).slice(2, 6)}`,
      passwordHash,
      role,
      displayName: `${role} ${n}`,
      customerId: opts.customerId ?? null,
    });
    const s = await createSessionIn(t, user, { idleMinutes: 30, absoluteHours: 12 }, {});
    return {
      user,
      token: s.token,
      sessionId: s.sessionId,
      actor: { userId: user.id, role, customerId: user.customer_id, sessionId: s.sessionId } as Actor,
    };
  });
}

/** The error code a bank call is refused with, or 'ok' (anything but a DomainError is rethrown). */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
}

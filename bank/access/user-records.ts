import type { Actor, BankContext, Role } from '../core/context.js';
import { SYSTEM } from '../core/context.js';
import { Conflict, Invalid } from '../core/errors.js';
import { audit } from '../audit/chain.js';
import { hashPassword, passwordProblem } from './passwords.js';
import { type UserRow, userDto } from './sessions.js';
import { type Tx, withTx } from '../core/db-tx.js';

export interface NewUser {
  username: string;
  password: string;
  role: Role;
  displayName: string;
  customerId?: number | null;
}

export const USERNAME_RE = /^[a-z0-9][a-z0-9._-]{2,63}$/;

/**
 * Creates a login inside the caller's transaction. The password must already be hashed
 * (argon2 is slow; hashing inside a SQLite write transaction would stall every writer).
 */
export async function createUserIn(t: Tx, actor: Actor, u: Omit<NewUser, 'password'> & { passwordHash: string }): Promise<UserRow> {
  const username = u.username.toLowerCase();
  if (!USERNAME_RE.test(username)) throw new Invalid('username must be 3-64 characters of a-z, 0-9, . _ -', { fields: ['username'] });
  if (await t.q('users').where({ username }).first('id'))
    throw new Conflict(`Username ${username} is taken`, 'conflict', { fields: ['username'] });
  if (u.role === 'customer' && !u.customerId) throw new Invalid('A customer login needs a customerId', { fields: ['customerId'] });
  if (u.role !== 'customer' && u.customerId) throw new Invalid('Only customer logins belong to a customer', { fields: ['customerId'] });
  const row = {
    username,
    password_hash: u.passwordHash,
    role: u.role,
    customer_id: u.customerId ?? null,
    display_name: u.displayName,
    active: true,
    failed_logins: 0,
    locked_until: null,
    totp_secret: null,
    totp_enabled: false,
    created_at: t.now,
    updated_at: t.now,
  };
  const [ins] = await t.q('users').insert(row, ['id']);
  const user = { ...row, id: typeof ins === 'object' ? ins.id : ins } as UserRow;
  await audit(t, actor, { action: 'user.created', entity: 'user', entityId: user.id, after: userDto(user) });
  return user;
}

export async function hashNewPassword(password: string): Promise<string> {
  const problem = passwordProblem(password);
  if (problem) throw new Invalid(problem, { fields: ['password'] });
  return hashPassword(password);
}

/** On first start with BANK_ADMIN_PASSWORD set and no admin yet, creates the user `admin`. */
export async function ensureAdmin(ctx: BankContext, password: string | undefined): Promise<boolean> {
  if (!password) return false;
  if (await ctx.db('users').where({ role: 'admin' }).first('id')) return false;
  const passwordHash = await hashPassword(password);
  return withTx(ctx, async (t) => {
    if (await t.q('users').where({ role: 'admin' }).first('id')) return false;
    await createUserIn(t, SYSTEM, { username: 'admin', passwordHash, role: 'admin', displayName: 'Administrator' });
    return true;
  });
}

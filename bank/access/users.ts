import type { Actor, BankContext, Role } from '../core/context.js';
import type { LoginEvent } from '../../shared/api.js';
import { toPage } from '../core/paging.js';
import { audit } from '../audit/chain.js';
import { Conflict, Invalid, NotFound } from '../core/errors.js';
import { requireCan } from './permissions.js';
import { type UserRow, invalidateSessionsIn, revokeSessionsIn, userDto } from './sessions.js';
import { withTx } from '../core/db-tx.js';
import { type NewUser, createUserIn, hashNewPassword } from './user-records.js';

/** What an administrator sees of a login (never its password hash or TOTP secret). */
export function adminUserDto(u: UserRow) {
  return {
    ...userDto(u),
    active: !!u.active,
    totpEnabled: !!u.totp_enabled,
    lockedUntil: u.locked_until,
    failedLogins: u.failed_logins,
    createdAt: u.created_at,
    updatedAt: u.updated_at,
  };
}
export type AdminUserDto = ReturnType<typeof adminUserDto>;

const isUniqueViolation = (err: unknown) => {
  const code = (err as { code?: string }).code ?? '';
  return code === '23505' || code.startsWith('SQLITE_CONSTRAINT_UNIQUE') || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
};

/** LIKE pattern for a substring, with the wildcards in it taken literally. */
const likeContaining = (s: string) => `%${s.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function listUsers(
  ctx: BankContext,
  actor: Actor,
  f: { role?: Role; active?: boolean; q?: string; limit: number; cursor: number | null },
): Promise<{ items: AdminUserDto[]; nextCursor: string | null }> {
  requireCan(actor, 'users.manage');
  let q = ctx
    .db<UserRow>('users')
    .orderBy('id', 'asc')
    .limit(f.limit + 1);
  if (f.cursor !== null) q = q.where('id', '>', f.cursor);
  if (f.role) q = q.where({ role: f.role });
  if (f.active !== undefined) q = q.where({ active: f.active });
  if (f.q) {
    const pattern = likeContaining(f.q);
    q = q.where((w) =>
      w.whereRaw(`lower(username) like ? escape '\\'`, [pattern]).orWhereRaw(`lower(display_name) like ? escape '\\'`, [pattern]),
    );
  }
  const rows = await q;
  const items = rows.slice(0, f.limit).map(adminUserDto);
  return toPage(rows.length, items, f.limit);
}

export async function getUser(ctx: BankContext, actor: Actor, id: number): Promise<AdminUserDto> {
  requireCan(actor, 'users.manage');
  const u = await ctx.db<UserRow>('users').where({ id }).first();
  if (!u) throw new NotFound('User');
  return adminUserDto(u);
}

/** Creates a login. The password is hashed before the transaction opens (argon2 is slow). */
export async function createUser(ctx: BankContext, actor: Actor, input: NewUser): Promise<AdminUserDto> {
  requireCan(actor, 'users.manage');
  const passwordHash = await hashNewPassword(input.password);
  try {
    return await withTx(ctx, async (t) => {
      if (input.customerId && !(await t.q('customers').where({ id: input.customerId }).first('id'))) throw new NotFound('Customer');
      const { password: _password, ...rest } = input;
      return adminUserDto(await createUserIn(t, actor, { ...rest, passwordHash }));
    });
  } catch (err) {
    // Two admins creating the same username at once: the unique index decides.
    if (isUniqueViolation(err))
      throw new Conflict(`Username ${input.username.toLowerCase()} is taken`, 'conflict', { fields: ['username'] });
    throw err;
  }
}

export interface UserChanges {
  role?: Role;
  active?: boolean;
  displayName?: string;
}

/**
 * Changes a login's role, status or name. A role change or deactivation signs the user out
 * everywhere (their sockets are disconnected by the session.revoked events). Admins may
 * not demote or deactivate themselves, so an active admin always remains.
 */
export async function updateUser(ctx: BankContext, actor: Actor, id: number, changes: UserChanges): Promise<AdminUserDto> {
  requireCan(actor, 'users.manage');
  return withTx(ctx, async (t) => {
    const u = await t.q<UserRow>('users').where({ id }).first();
    if (!u) throw new NotFound('User');
    const roleChanged = changes.role !== undefined && changes.role !== u.role;
    const deactivated = changes.active === false && !!u.active;
    if (id === actor.userId && (roleChanged || deactivated)) throw new Conflict('You cannot change your own role or deactivate yourself');
    if (roleChanged && (changes.role === 'customer') !== (u.role === 'customer')) {
      throw new Invalid('A customer login cannot become staff, nor a staff login a customer; create a new login', { fields: ['role'] });
    }
    const patch: Partial<UserRow> = {};
    if (roleChanged) patch.role = changes.role;
    if (changes.active !== undefined && changes.active !== !!u.active) patch.active = changes.active;
    if (changes.displayName !== undefined && changes.displayName !== u.display_name) patch.display_name = changes.displayName;
    if (!Object.keys(patch).length) return adminUserDto(u);
    await t
      .q('users')
      .where({ id })
      .update({ ...patch, updated_at: t.now });
    invalidateSessionsIn(t, { userIds: [id] });
    const after = { ...u, ...patch, updated_at: t.now } as UserRow;
    if (deactivated || roleChanged) await revokeSessionsIn(t, { userId: id }, deactivated ? 'deactivated' : 'role_changed');
    await audit(t, actor, { action: 'user.updated', entity: 'user', entityId: id, before: changedFields(u), after: changedFields(after) });
    return adminUserDto(after);
  });
}

const changedFields = (u: UserRow) => ({ role: u.role, active: !!u.active, displayName: u.display_name });

/** A sign-in event as the API shows it: shared/api.ts defines it for the server and the client. */
export type LoginEventDto = LoginEvent;

/** The sign-in history, newest first. */
export async function listLoginEvents(
  ctx: BankContext,
  actor: Actor,
  f: { userId?: number; kind?: LoginEventDto['kind']; limit: number; cursor: number | null },
): Promise<{ items: LoginEventDto[]; nextCursor: string | null }> {
  requireCan(actor, 'loginEvents.read');
  let q = ctx
    .db('login_events')
    .orderBy('id', 'desc')
    .limit(f.limit + 1);
  if (f.cursor !== null) q = q.where('id', '<', f.cursor);
  if (f.userId !== undefined) q = q.where({ user_id: f.userId });
  if (f.kind) q = q.where({ kind: f.kind });
  const rows = await q;
  const items: LoginEventDto[] = rows.slice(0, f.limit).map((r) => ({
    id: r.id,
    userId: r.user_id,
    username: r.username,
    kind: r.kind,
    ip: r.ip,
    userAgent: r.user_agent,
    at: r.at,
  }));
  return toPage(rows.length, items, f.limit);
}

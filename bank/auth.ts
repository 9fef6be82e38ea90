import type { Actor, BankContext } from './context.js';
import { SYSTEM } from './context.js';
import { audit } from './audit.js';
import { Conflict, Invalid, Locked, NotFound, Unauthenticated } from './errors.js';
import { notifyUsers } from './notify.js';
import { dummyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import { type SessionPolicy, type UserRow, createSessionIn, invalidateSessionsIn, revokeSessionsIn, userDto } from './sessions.js';
import { newTotpSecret, totpUri, totpValid } from './totp.js';
import { type Tx, withTx } from './tx.js';

export interface LoginPolicy extends SessionPolicy {
  maxFailures: number;
  lockMinutes: number;
}

export interface ClientMeta {
  ip?: string | null;
  userAgent?: string | null;
}

export type LoginEventKind = 'login' | 'logout' | 'failed' | 'locked';

export const meDto = (u: UserRow) => ({ ...userDto(u), totpEnabled: !!u.totp_enabled });

const AUDITED: Partial<Record<LoginEventKind, string>> = { login: 'session.created', logout: 'session.revoked', failed: 'login.failed' };

/**
 * The login history row, and (a session begun or ended, a failure counted) its audit row.
 * A lock is audited where it is decided, as user.locked.
 */
export async function recordLoginEvent(t: Tx, e: { userId: number | null; username: string; kind: LoginEventKind } & ClientMeta) {
  const row = {
    user_id: e.userId, username: e.username.slice(0, 64), kind: e.kind,
    ip: e.ip?.slice(0, 64) ?? null, user_agent: e.userAgent?.slice(0, 512) ?? null, at: t.now,
  };
  await t.q('login_events').insert(row);
  const action = AUDITED[e.kind];
  if (action) {
    const actor = e.kind === 'failed' || e.userId === null ? { ...SYSTEM, ip: row.ip } : { ...SYSTEM, userId: e.userId, ip: row.ip };
    await audit(t, actor, { action, entity: 'user', entityId: e.userId, after: { username: row.username, userAgent: row.user_agent } });
  }
}

const badCredentials = () => new Unauthenticated('invalid_credentials', 'Wrong username or password');
const lockedNow = (u: Pick<UserRow, 'locked_until'>, now: string) => !!u.locked_until && u.locked_until > now;

/**
 * Counts one failed sign-in of a known user; the one that reaches the limit locks the
 * account. The counter update is conditional and atomic, so concurrent failures on any
 * pod add up in the database. Returns the lock's end when the account is (now) locked.
 */
async function recordFailure(ctx: BankContext, user: UserRow, meta: ClientMeta, policy: LoginPolicy): Promise<string | null> {
  return withTx(ctx, async (t) => {
    const base = { userId: user.id, username: user.username, ...meta };
    await recordLoginEvent(t, { ...base, kind: 'failed' });
    const counted = await t.q('users').where({ id: user.id })
      .where((w) => w.whereNull('locked_until').orWhere('locked_until', '<=', t.now))
      .increment('failed_logins', 1);
    const row = await t.q<UserRow>('users').where({ id: user.id }).first('failed_logins', 'locked_until');
    if (!row) return null;
    if (!counted) return row.locked_until; // locked meanwhile by a concurrent attempt
    if (row.failed_logins < policy.maxFailures) return null;
    const until = new Date(Date.parse(t.now) + policy.lockMinutes * 60_000).toISOString();
    // The counter restarts, so the account gets a fresh allowance when the lock ends.
    await t.q('users').where({ id: user.id }).update({ failed_logins: 0, locked_until: until });
    invalidateSessionsIn(t, { userIds: [user.id] });
    await recordLoginEvent(t, { ...base, kind: 'locked' });
    await notifyUsers(t, [user.id], {
      kind: 'security', title: 'Sign-in locked',
      body: `After ${policy.maxFailures} failed sign-ins your login is locked until ${until}.`,
    });
    await audit(t, { ...SYSTEM, ip: meta.ip ?? null }, {
      action: 'user.locked', entity: 'user', entityId: user.id, before: { lockedUntil: null }, after: { lockedUntil: until, failures: row.failed_logins },
    });
    return until;
  });
}

async function failedAttempt(ctx: BankContext, user: UserRow, meta: ClientMeta, policy: LoginPolicy, refusal: Error): Promise<never> {
  const lockedUntil = await recordFailure(ctx, user, meta, policy);
  if (lockedUntil) throw new Locked(lockedUntil);
  throw refusal;
}

/**
 * Signs in. The password (argon2, slow) is checked before any transaction opens, against
 * a dummy hash when the username is unknown so that timing does not tell. A locked
 * account answers account_locked whatever the password; an inactive one looks unknown.
 */
export async function login(
  ctx: BankContext,
  input: { username: string; password: string; otp?: string | null },
  meta: ClientMeta,
  policy: LoginPolicy,
) {
  const username = input.username.toLowerCase();
  const user = username.length <= 64 ? await ctx.db<UserRow>('users').where({ username }).first() : undefined;
  const now = ctx.now().toISOString();
  if (user && user.active && lockedNow(user, now)) {
    await withTx(ctx, (t) => recordLoginEvent(t, { userId: user.id, username: user.username, kind: 'failed', ...meta }));
    throw new Locked(user.locked_until!);
  }
  const passwordOk = await verifyPassword(user?.password_hash ?? (await dummyHash()), input.password);
  if (!user || !user.active) {
    await withTx(ctx, (t) => recordLoginEvent(t, { userId: user?.id ?? null, username: user?.username ?? username, kind: 'failed', ...meta }));
    throw badCredentials();
  }
  if (!passwordOk) return failedAttempt(ctx, user, meta, policy, badCredentials());
  if (user.totp_enabled && user.totp_secret) {
    // The password was right: asking for the second factor is not a failure.
    if (!input.otp) throw new Unauthenticated('otp_required', 'Enter the code from your authenticator app');
    if (!(await totpValid(user.totp_secret, input.otp, ctx.now()))) {
      return failedAttempt(ctx, user, meta, policy, new Unauthenticated('invalid_otp', 'The one-time code is not valid'));
    }
  }
  const outcome = await withTx(ctx, async (t) => {
    const fresh = await t.q<UserRow>('users').where({ id: user.id }).first();
    if (!fresh || !fresh.active) return { refused: badCredentials() };
    if (lockedNow(fresh, t.now)) return { refused: new Locked(fresh.locked_until!) };
    await t.q('users').where({ id: user.id }).update({ failed_logins: 0, locked_until: null });
    invalidateSessionsIn(t, { userIds: [user.id] });
    const session = await createSessionIn(t, fresh, policy, meta);
    await recordLoginEvent(t, { userId: fresh.id, username: fresh.username, kind: 'login', ...meta });
    return { session, user: fresh };
  });
  if ('refused' in outcome) throw outcome.refused;
  return { token: outcome.session.token, expiresAt: outcome.session.expiresAt, sessionId: outcome.session.sessionId, user: meDto(outcome.user) };
}

export async function logout(ctx: BankContext, session: { id: number; userId: number; username: string }, meta: ClientMeta): Promise<void> {
  await withTx(ctx, async (t) => {
    await revokeSessionsIn(t, { sessionId: session.id }, 'logout');
    await recordLoginEvent(t, { userId: session.userId, username: session.username, kind: 'logout', ...meta });
  });
}

async function signedInUser(ctx: BankContext, actor: Actor): Promise<UserRow> {
  const user = actor.userId === null ? undefined : await ctx.db<UserRow>('users').where({ id: actor.userId }).first();
  if (!user) throw new NotFound('User');
  return user;
}

/**
 * Changes the caller's password and signs out their other sessions. Both hashes are
 * computed before the transaction; the update is conditional on the old hash, so two
 * concurrent changes cannot both win.
 */
export async function changePassword(ctx: BankContext, actor: Actor, input: { currentPassword: string; newPassword: string }): Promise<void> {
  const user = await signedInUser(ctx, actor);
  if (!(await verifyPassword(user.password_hash, input.currentPassword))) throw new Unauthenticated('invalid_credentials', 'The current password is wrong');
  const problem = passwordProblem(input.newPassword);
  if (problem) throw new Invalid(problem, { fields: ['newPassword'] });
  if (input.newPassword === input.currentPassword) throw new Invalid('The new password must differ from the current one', { fields: ['newPassword'] });
  const newHash = await hashPassword(input.newPassword);
  await withTx(ctx, async (t) => {
    const n = await t.q('users').where({ id: user.id, password_hash: user.password_hash }).update({ password_hash: newHash, updated_at: t.now });
    if (!n) throw new Conflict('The password was changed meanwhile; sign in again');
    invalidateSessionsIn(t, { userIds: [user.id] });
    const revoked = await revokeSessionsIn(t, { userId: user.id, exceptSessionId: actor.sessionId ?? undefined }, 'password_changed');
    await notifyUsers(t, [user.id], { kind: 'security', title: 'Password changed', body: 'Your password was changed. If this was not you, contact the bank.' });
    await audit(t, actor, { action: 'user.password_changed', entity: 'user', entityId: user.id, after: { otherSessionsRevoked: revoked } });
  });
}

/**
 * Stores a new pending TOTP secret (not yet enabled) and returns it for the authenticator
 * app. Refused once TOTP is on: replacing the active secret would be a way around it.
 */
export async function setupTotp(ctx: BankContext, actor: Actor) {
  const user = await signedInUser(ctx, actor);
  if (user.totp_enabled) throw new Conflict('Two-factor sign-in is already enabled');
  const secret = newTotpSecret();
  await withTx(ctx, async (t) => {
    const n = await t.q('users').where({ id: user.id, totp_enabled: false }).update({ totp_secret: secret, updated_at: t.now });
    if (!n) throw new Conflict('Two-factor sign-in is already enabled');
    invalidateSessionsIn(t, { userIds: [user.id] });
    await audit(t, actor, { action: 'user.totp_setup', entity: 'user', entityId: user.id, after: { totpEnabled: false, pending: true } });
  });
  return { secret, otpauthUrl: totpUri(secret, user.username) };
}

export async function enableTotp(ctx: BankContext, actor: Actor, otp: string): Promise<void> {
  const user = await signedInUser(ctx, actor);
  if (user.totp_enabled) throw new Conflict('Two-factor sign-in is already enabled');
  if (!user.totp_secret) throw new Conflict('Set up two-factor sign-in first (POST /auth/totp/setup)');
  if (!(await totpValid(user.totp_secret, otp, ctx.now()))) throw new Unauthenticated('invalid_otp', 'The one-time code is not valid');
  await withTx(ctx, async (t) => {
    // Only the secret the code was checked against may be enabled (a concurrent setup replaces it).
    const n = await t.q('users').where({ id: user.id, totp_secret: user.totp_secret, totp_enabled: false }).update({ totp_enabled: true, updated_at: t.now });
    if (!n) throw new Conflict('Two-factor setup changed meanwhile; set it up again');
    invalidateSessionsIn(t, { userIds: [user.id] });
    await notifyUsers(t, [user.id], { kind: 'security', title: 'Two-factor sign-in enabled', body: 'Signing in now also asks for a code from your authenticator app.' });
    await audit(t, actor, { action: 'user.totp_enabled', entity: 'user', entityId: user.id, before: { totpEnabled: false }, after: { totpEnabled: true } });
  });
}

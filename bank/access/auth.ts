import crypto from 'node:crypto';
import type { Actor, BankContext } from '../core/context.js';
import { SYSTEM } from '../core/context.js';
import { audit } from '../audit/chain.js';
import { Conflict, Invalid, Locked, NotFound, Unauthenticated } from '../core/errors.js';
import { notifyUsers } from '../notifications/send.js';
import { dummyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.js';
import {
  type SessionPolicy,
  type SessionRow,
  type UserRow,
  createSessionIn,
  invalidateSessionsIn,
  revokeSessionsIn,
  userDto,
} from './sessions.js';
import { isSealed, open as openSealed, seal as sealWith } from '../core/secret-box.js';
import { newTotpSecret, totpStep, totpUri } from './totp.js';
import { type Tx, withTx } from '../core/db-tx.js';
import type { LoginThrottle, Row, User } from '../../db/models.js';

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
    user_id: e.userId,
    username: e.username.slice(0, 64),
    kind: e.kind,
    ip: e.ip?.slice(0, 64) ?? null,
    user_agent: e.userAgent?.slice(0, 512) ?? null,
    at: t.now,
  };
  await t.q('login_events').insert(row);
  const action = AUDITED[e.kind];
  if (action) {
    const actor = e.kind === 'failed' || e.userId === null ? { ...SYSTEM, ip: row.ip } : { ...SYSTEM, userId: e.userId, ip: row.ip };
    await audit(t, actor, { action, entity: 'user', entityId: e.userId, after: { username: row.username, userAgent: row.user_agent } });
  }
}

const badCredentials = () => new Unauthenticated('invalid_credentials', 'Wrong username or password');
const badOtp = () => new Unauthenticated('invalid_otp', 'The one-time code is not valid');

/** The users row with the sign-in hardening columns (migration 0006). */
type AuthUser = Row<User>;

/** Failed sign-ins are counted per (username as typed, client address): see migration 0006. */
type ThrottleKey = Pick<Row<LoginThrottle>, 'username' | 'ip'>;
type ThrottleRow = Row<LoginThrottle>;

/** Each lock of the same (username, address) lasts twice as long as the one before, up to a day. */
const MAX_LOCK_MINUTES = 24 * 60;
/** A run of locks is forgotten once the last one ended this long ago. */
const LOCK_MEMORY_MS = 24 * 3600_000;

export function lockMinutesFor(policy: Pick<LoginPolicy, 'lockMinutes'>, locks: number): number {
  return Math.min(MAX_LOCK_MINUTES, policy.lockMinutes * 2 ** Math.max(0, Math.min(locks - 1, 20)));
}

const throttleKey = (username: string, meta: ClientMeta): ThrottleKey => ({
  username: username.slice(0, 64),
  ip: (meta.ip || 'unknown').slice(0, 64),
});

/**
 * Counts one failed sign-in for a (username, address) pair, known user or not, so an unknown
 * username is answered exactly as a known one. The pair that reaches the limit is locked,
 * for longer each time; other addresses are not, so nobody can lock a user out from afar.
 * Concurrent failures add up in the database (conditional increment). Returns the lock's
 * end when the pair is (now) locked.
 */
async function recordFailure(
  ctx: BankContext,
  key: ThrottleKey,
  user: AuthUser | undefined,
  meta: ClientMeta,
  policy: LoginPolicy,
): Promise<string | null> {
  return withTx(ctx, async (t) => {
    const base = { userId: user?.id ?? null, username: user?.username ?? key.username, ...meta };
    await recordLoginEvent(t, { ...base, kind: 'failed' });
    if (user) await t.q('users').where({ id: user.id }).increment('failed_logins', 1);
    await t
      .q('login_throttles')
      .insert({ ...key, failures: 0, locks: 0, locked_until: null, updated_at: t.now })
      .onConflict(['username', 'ip'])
      .ignore();
    const counted = await t
      .q('login_throttles')
      .where(key)
      .where((w) => w.whereNull('locked_until').orWhere('locked_until', '<=', t.now))
      .increment('failures', 1);
    const row = await t.q<ThrottleRow>('login_throttles').where(key).first();
    if (!row) return null;
    if (!counted) return row.locked_until; // locked meanwhile by a concurrent attempt
    await t.q('login_throttles').where(key).update({ updated_at: t.now });
    if (row.failures < policy.maxFailures) return null;
    const forgotten = !row.locked_until || Date.parse(row.locked_until) + LOCK_MEMORY_MS < Date.parse(t.now);
    const locks = forgotten ? 1 : row.locks + 1;
    const minutes = lockMinutesFor(policy, locks);
    const until = new Date(Date.parse(t.now) + minutes * 60_000).toISOString();
    // The counter restarts, so the pair gets a fresh allowance when the lock ends.
    await t.q('login_throttles').where(key).update({ failures: 0, locks, locked_until: until, updated_at: t.now });
    await recordLoginEvent(t, { ...base, kind: 'locked' });
    if (user) {
      await t.q('users').where({ id: user.id }).update({ locked_until: until });
      invalidateSessionsIn(t, { userIds: [user.id] });
      await notifyUsers(t, [user.id], {
        kind: 'security',
        title: 'Sign-in paused',
        body: `${policy.maxFailures} wrong sign-ins came from ${key.ip}; that address may not sign in as you until ${until}. Sign-ins from elsewhere still work.`,
      });
    }
    await audit(
      t,
      { ...SYSTEM, ip: meta.ip ?? null },
      {
        action: 'user.locked',
        entity: 'user',
        entityId: user?.id ?? null,
        before: { lockedUntil: null },
        after: { username: key.username, address: key.ip, lockedUntil: until, minutes, locks },
      },
    );
    return until;
  });
}

async function failedAttempt(
  ctx: BankContext,
  key: ThrottleKey,
  user: AuthUser | undefined,
  meta: ClientMeta,
  policy: LoginPolicy,
  refusal: Error,
): Promise<never> {
  const lockedUntil = await recordFailure(ctx, key, user, meta, policy);
  if (lockedUntil) throw new Locked(lockedUntil);
  throw refusal;
}

// ---- recovery codes ----------------------------------------------------------------------

const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no 0/o, 1/l/i

const normaliseRecovery = (code: string) => code.toLowerCase().replace(/[\s-]/g, '');
const recoveryHash = (code: string) =>
  crypto
    .createHash('sha256')
    .update(`recovery:${normaliseRecovery(code)}`)
    .digest('hex');

/** Ten codes of ten characters (about 49 bits each), shown as "xxxxx-xxxxx". */
function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODES }, () => {
    const chars = Array.from(crypto.randomBytes(10), (b) => RECOVERY_ALPHABET[b % RECOVERY_ALPHABET.length]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

function recoveryHashes(u: Pick<AuthUser, 'totp_recovery_codes'>): string[] {
  try {
    const v = JSON.parse(u.totp_recovery_codes ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

// ---- second factor -----------------------------------------------------------------------

/** What a correct second factor lets the sign-in transaction claim (each exactly once). */
type FactorClaim = { step: number } | { recoveryHash: string };

const lastStep = (u: Pick<AuthUser, 'totp_last_step'>) =>
  u.totp_last_step === null || u.totp_last_step === undefined ? null : Number(u.totp_last_step);

/** Checks a TOTP code or a recovery code against the user, without using it up. */
async function checkFactor(
  ctx: BankContext,
  user: AuthUser,
  input: { otp?: string | null; recoveryCode?: string | null },
): Promise<FactorClaim | null> {
  if (input.recoveryCode) {
    const h = recoveryHash(input.recoveryCode);
    return normaliseRecovery(input.recoveryCode).length === 10 && recoveryHashes(user).includes(h) ? { recoveryHash: h } : null;
  }
  const step = await totpStep(openSecret(ctx, user.totp_secret!), input.otp, ctx.now(), lastStep(user));
  return step === null ? null : { step };
}

/**
 * Uses a checked factor up, in the caller's transaction: a TOTP step only if no later or
 * equal one was used, a recovery code only if it is still in the list (both conditional
 * updates, so two concurrent sign-ins with one code cannot both win). A secret stored
 * before encryption is sealed now. Returns false when the factor was used meanwhile.
 */
async function claimFactor(t: Tx, ctx: BankContext, user: AuthUser, claim: FactorClaim): Promise<boolean> {
  if ('step' in claim) {
    const seal = user.totp_secret && !isSealed(user.totp_secret) ? { totp_secret: sealSecret(ctx, user.totp_secret) } : {};
    const n = await t
      .q('users')
      .where({ id: user.id })
      .where((w) => w.whereNull('totp_last_step').orWhere('totp_last_step', '<', claim.step))
      .update({ totp_last_step: claim.step, ...seal });
    return n > 0;
  }
  const fresh = await t.q<AuthUser>('users').where({ id: user.id }).first('totp_recovery_codes');
  if (!fresh || !recoveryHashes(fresh).includes(claim.recoveryHash)) return false;
  const left = recoveryHashes(fresh).filter((h) => h !== claim.recoveryHash);
  const n = await t
    .q('users')
    .where({ id: user.id, totp_recovery_codes: fresh.totp_recovery_codes })
    .update({ totp_recovery_codes: JSON.stringify(left) });
  if (!n) return false;
  await notifyUsers(t, [user.id], {
    kind: 'security',
    title: 'Recovery code used',
    body: `A recovery code was used to sign in; ${left.length} left. If this was not you, contact the bank.`,
  });
  await audit(
    t,
    { ...SYSTEM, userId: user.id },
    { action: 'user.recovery_code_used', entity: 'user', entityId: user.id, after: { left: left.length } },
  );
  return true;
}

function openSecret(ctx: BankContext, stored: string): string {
  try {
    return openSealed(ctx.totpKey, stored);
  } catch {
    throw new Error('A TOTP secret cannot be decrypted: was TOTP_ENCRYPTION_KEY changed?');
  }
}
const sealSecret = (ctx: BankContext, plain: string) => sealWith(ctx.totpKey, plain);

/**
 * Signs in. The password (argon2, slow) is checked before any transaction opens, against
 * a dummy hash when the username is unknown so that timing does not tell. Failures are
 * counted per (username, client address) for known and unknown usernames alike; a locked
 * pair answers account_locked whatever the password. An inactive user looks unknown. With
 * TOTP on, a code (or a recovery code) is needed and is accepted once.
 */
export async function login(
  ctx: BankContext,
  input: { username: string; password: string; otp?: string | null; recoveryCode?: string | null },
  meta: ClientMeta,
  policy: LoginPolicy,
) {
  const username = input.username.toLowerCase();
  const key = throttleKey(username, meta);
  const found = username.length <= 64 ? await ctx.db<AuthUser>('users').where({ username }).first() : undefined;
  const now = ctx.now().toISOString();
  const throttle = await ctx.db<ThrottleRow>('login_throttles').where(key).first();
  if (throttle?.locked_until && throttle.locked_until > now) {
    await withTx(ctx, (t) =>
      recordLoginEvent(t, { userId: found?.id ?? null, username: found?.username ?? key.username, kind: 'failed', ...meta }),
    );
    throw new Locked(throttle.locked_until);
  }
  const passwordOk = await verifyPassword(found?.password_hash ?? (await dummyHash()), input.password);
  if (!found || !found.active || !passwordOk) return failedAttempt(ctx, key, found, meta, policy, badCredentials());
  const user = found;
  let claim: FactorClaim | null = null;
  if (user.totp_enabled && user.totp_secret) {
    // The password was right: asking for the second factor is not a failure.
    if (!input.otp && !input.recoveryCode) throw new Unauthenticated('otp_required', 'Enter the code from your authenticator app');
    claim = await checkFactor(ctx, user, input);
    if (!claim) return failedAttempt(ctx, key, user, meta, policy, badOtp());
  }
  const outcome = await withTx(ctx, async (t) => {
    const fresh = await t.q<AuthUser>('users').where({ id: user.id }).first();
    if (!fresh || !fresh.active) return { refused: badCredentials() };
    const lock = await t.q<ThrottleRow>('login_throttles').where(key).first();
    if (lock?.locked_until && lock.locked_until > t.now) return { refused: new Locked(lock.locked_until) };
    if (claim && !(await claimFactor(t, ctx, fresh, claim))) return { reused: true as const };
    await t.q('login_throttles').where(key).del();
    await t.q('users').where({ id: user.id }).update({ failed_logins: 0, locked_until: null });
    invalidateSessionsIn(t, { userIds: [user.id] });
    const session = await createSessionIn(t, fresh, policy, meta);
    await recordLoginEvent(t, { userId: fresh.id, username: fresh.username, kind: 'login', ...meta });
    return { session, user: fresh };
  });
  if ('reused' in outcome) return failedAttempt(ctx, key, user, meta, policy, badOtp());
  if ('refused' in outcome) throw outcome.refused;
  return {
    token: outcome.session.token,
    expiresAt: outcome.session.expiresAt,
    sessionId: outcome.session.sessionId,
    user: meDto(outcome.user),
  };
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
export async function changePassword(
  ctx: BankContext,
  actor: Actor,
  input: { currentPassword: string; newPassword: string },
): Promise<void> {
  const user = await signedInUser(ctx, actor);
  if (!(await verifyPassword(user.password_hash, input.currentPassword)))
    throw new Unauthenticated('invalid_credentials', 'The current password is wrong');
  const problem = passwordProblem(input.newPassword);
  if (problem) throw new Invalid(problem, { fields: ['newPassword'] });
  if (input.newPassword === input.currentPassword)
    throw new Invalid('The new password must differ from the current one', { fields: ['newPassword'] });
  const newHash = await hashPassword(input.newPassword);
  await withTx(ctx, async (t) => {
    const n = await t
      .q('users')
      .where({ id: user.id, password_hash: user.password_hash })
      .update({ password_hash: newHash, updated_at: t.now });
    if (!n) throw new Conflict('The password was changed meanwhile; sign in again');
    invalidateSessionsIn(t, { userIds: [user.id] });
    const revoked = await revokeSessionsIn(t, { userId: user.id, exceptSessionId: actor.sessionId ?? undefined }, 'password_changed');
    await notifyUsers(t, [user.id], {
      kind: 'security',
      title: 'Password changed',
      body: 'Your password was changed. If this was not you, contact the bank.',
    });
    await audit(t, actor, { action: 'user.password_changed', entity: 'user', entityId: user.id, after: { otherSessionsRevoked: revoked } });
  });
}

/**
 * Stores a new pending TOTP secret (not yet enabled), sealed, and returns it for the
 * authenticator app. Refused once TOTP is on: replacing the active secret would be a way around it.
 */
export async function setupTotp(ctx: BankContext, actor: Actor) {
  const user = await signedInUser(ctx, actor);
  if (user.totp_enabled) throw new Conflict('Two-factor sign-in is already enabled');
  const secret = newTotpSecret();
  await withTx(ctx, async (t) => {
    const n = await t
      .q('users')
      .where({ id: user.id, totp_enabled: false })
      .update({ totp_secret: sealSecret(ctx, secret), totp_last_step: null, totp_recovery_codes: null, updated_at: t.now });
    if (!n) throw new Conflict('Two-factor sign-in is already enabled');
    invalidateSessionsIn(t, { userIds: [user.id] });
    await audit(t, actor, { action: 'user.totp_setup', entity: 'user', entityId: user.id, after: { totpEnabled: false, pending: true } });
  });
  return { secret, otpauthUrl: totpUri(secret, user.username) };
}

/** Turns TOTP on with a code from the app; that code is used up (it cannot sign in afterwards). */
export async function enableTotp(ctx: BankContext, actor: Actor, otp: string): Promise<void> {
  const user = (await signedInUser(ctx, actor)) as AuthUser;
  if (user.totp_enabled) throw new Conflict('Two-factor sign-in is already enabled');
  if (!user.totp_secret) throw new Conflict('Set up two-factor sign-in first (POST /auth/totp/setup)');
  const step = await totpStep(openSecret(ctx, user.totp_secret), otp, ctx.now(), lastStep(user));
  if (step === null) throw badOtp();
  await withTx(ctx, async (t) => {
    // Only the secret the code was checked against may be enabled (a concurrent setup replaces it).
    const n = await t
      .q('users')
      .where({ id: user.id, totp_secret: user.totp_secret, totp_enabled: false })
      .where((w) => w.whereNull('totp_last_step').orWhere('totp_last_step', '<', step))
      .update({ totp_enabled: true, totp_last_step: step, updated_at: t.now });
    if (!n) throw new Conflict('Two-factor setup changed meanwhile; set it up again');
    invalidateSessionsIn(t, { userIds: [user.id] });
    await notifyUsers(t, [user.id], {
      kind: 'security',
      title: 'Two-factor sign-in enabled',
      body: 'Signing in now also asks for a code from your authenticator app.',
    });
    await audit(t, actor, {
      action: 'user.totp_enabled',
      entity: 'user',
      entityId: user.id,
      before: { totpEnabled: false },
      after: { totpEnabled: true },
    });
  });
}

async function enabledTotpUser(ctx: BankContext, actor: Actor): Promise<AuthUser> {
  const user = (await signedInUser(ctx, actor)) as AuthUser;
  if (!user.totp_enabled || !user.totp_secret) throw new Conflict('Two-factor sign-in is not enabled');
  return user;
}

/**
 * Ten new recovery codes (the earlier ones stop working), for a fresh code from the app
 * (used up). Only their hashes are stored: the answer is the one time they are shown.
 */
export async function newRecoveryCodesFor(ctx: BankContext, actor: Actor, otp: string): Promise<{ codes: string[] }> {
  const user = await enabledTotpUser(ctx, actor);
  const claim = await checkFactor(ctx, user, { otp });
  if (!claim) throw badOtp();
  const codes = newRecoveryCodes();
  await withTx(ctx, async (t) => {
    if (!(await claimFactor(t, ctx, user, claim))) throw badOtp();
    await t
      .q('users')
      .where({ id: user.id })
      .update({ totp_recovery_codes: JSON.stringify(codes.map(recoveryHash)), updated_at: t.now });
    await notifyUsers(t, [user.id], {
      kind: 'security',
      title: 'New recovery codes',
      body: 'New recovery codes were made for your sign-in; the earlier ones no longer work.',
    });
    await audit(t, actor, { action: 'user.recovery_codes_created', entity: 'user', entityId: user.id, after: { count: codes.length } });
  });
  return { codes };
}

/**
 * Turns TOTP off: the password and a code from the app (or, with the phone lost, a
 * recovery code) are both needed. The secret and the recovery codes are erased.
 */
export async function disableTotp(
  ctx: BankContext,
  actor: Actor,
  input: { password: string; otp?: string; recoveryCode?: string },
): Promise<void> {
  const user = await enabledTotpUser(ctx, actor);
  if (!(await verifyPassword(user.password_hash, input.password)))
    throw new Unauthenticated('invalid_credentials', 'The password is wrong');
  if (!input.otp && !input.recoveryCode)
    throw new Invalid('Send the code from your authenticator app (otp) or a recovery code', { fields: ['otp'] });
  const claim = await checkFactor(ctx, user, input);
  if (!claim) throw badOtp();
  await withTx(ctx, async (t) => {
    if (!(await claimFactor(t, ctx, user, claim))) throw badOtp();
    await t
      .q('users')
      .where({ id: user.id })
      .update({ totp_enabled: false, totp_secret: null, totp_last_step: null, totp_recovery_codes: null, updated_at: t.now });
    invalidateSessionsIn(t, { userIds: [user.id] });
    await notifyUsers(t, [user.id], {
      kind: 'security',
      title: 'Two-factor sign-in turned off',
      body: 'Signing in now needs only your password. If this was not you, contact the bank.',
    });
    await audit(t, actor, {
      action: 'user.totp_disabled',
      entity: 'user',
      entityId: user.id,
      before: { totpEnabled: true },
      after: { totpEnabled: false },
    });
  });
}

// ---- signed-in devices -------------------------------------------------------------------

/** The caller's live sessions (their signed-in devices), newest first; `current` marks this one. */
export async function listOwnSessions(ctx: BankContext, actor: Actor, policy: SessionPolicy) {
  const user = await signedInUser(ctx, actor);
  const now = ctx.now().getTime();
  const rows = await ctx
    .db<SessionRow>('sessions')
    .where({ user_id: user.id })
    .whereNull('revoked_at')
    .where('expires_at', '>', new Date(now).toISOString())
    .where('last_seen_at', '>', new Date(now - policy.idleMinutes * 60_000).toISOString())
    .orderBy('id', 'desc')
    .limit(200);
  return rows.map((s) => ({
    id: s.id,
    createdAt: s.created_at,
    lastSeenAt: s.last_seen_at,
    ip: s.ip,
    userAgent: s.user_agent,
    current: s.id === actor.sessionId,
  }));
}

/** Signs one of the caller's own sessions out (its sockets get session.revoked); another user's is not found. */
export async function revokeOwnSession(ctx: BankContext, actor: Actor, sessionId: number): Promise<void> {
  const user = await signedInUser(ctx, actor);
  await withTx(ctx, async (t) => {
    const row = await t.q<SessionRow>('sessions').where({ id: sessionId, user_id: user.id }).whereNull('revoked_at').first('id');
    if (!row) throw new NotFound('Session');
    await revokeSessionsIn(t, { sessionId }, sessionId === actor.sessionId ? 'logout' : 'signed_out_remotely');
    await audit(t, actor, {
      action: 'session.revoked',
      entity: 'session',
      entityId: sessionId,
      after: { by: 'owner', current: sessionId === actor.sessionId },
    });
  });
}

import crypto from 'node:crypto';
import type { Actor, BankContext } from '../core/context.js';
import { recordEvent, rooms } from '../outbox/events.js';
import { type Tx, withTx } from '../core/db-tx.js';
import type { Row, Session, User } from '../../db/models.js';

export interface SessionPolicy {
  idleMinutes: number;
  absoluteHours: number;
}

/** A users row without the second-factor bookkeeping, which only bank/access/auth.ts reads. */
export type UserRow = Omit<Row<User>, 'totp_last_step' | 'totp_recovery_codes'>;

export type SessionRow = Row<Session>;

export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export function userDto(u: Pick<UserRow, 'id' | 'username' | 'role' | 'customer_id' | 'display_name'>) {
  return { id: u.id, username: u.username, role: u.role, customerId: u.customer_id, displayName: u.display_name };
}
export type UserDto = ReturnType<typeof userDto>;

/** Creates a session in the caller's transaction; only the token's hash is stored. */
export async function createSessionIn(
  t: Tx,
  user: UserRow,
  policy: SessionPolicy,
  meta: { ip?: string | null; userAgent?: string | null },
) {
  const token = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.parse(t.now) + policy.absoluteHours * 3600_000).toISOString();
  const [ins] = await t.q('sessions').insert(
    {
      user_id: user.id,
      token_hash: hashToken(token),
      created_at: t.now,
      last_seen_at: t.now,
      expires_at: expiresAt,
      ip: meta.ip ?? null,
      user_agent: meta.userAgent?.slice(0, 512) ?? null,
    },
    ['id'],
  );
  return { token, expiresAt, sessionId: typeof ins === 'object' ? ins.id : (ins as number) };
}

export interface ResolvedSession {
  session: SessionRow;
  user: UserRow;
  actor: Actor;
  /** When the session ends if left idle, or at its absolute expiry, whichever is first. */
  expiresAt: string;
}

const TOUCH_EVERY_MS = 30_000;
/** How long a resolved session is served from memory before it is read again. */
export const SESSION_CACHE_MS = 10_000;
const CACHE_MAX = 50_000;

export interface SessionInvalidation {
  sessionIds?: number[];
  userIds?: number[];
}

/**
 * Resolved sessions by token hash, so a request costs no database round trip to know who is
 * calling. An entry lives SESSION_CACHE_MS at most; revoking a session or changing a user
 * drops it at once here (after commit) and on every other process (the 'sessions.invalidated'
 * signal, carried over Redis by the server when REDIS_URL is set). A read that started before
 * an invalidation is not cached (the generation moved on), so a stale row cannot slip back in.
 */
class SessionCache {
  private readonly entries = new Map<string, { row: ResolvedRow; at: number }>();
  generation = 0;

  get(hash: string, now: number): ResolvedRow | null {
    const e = this.entries.get(hash);
    if (!e) return null;
    if (now - e.at > SESSION_CACHE_MS) {
      this.entries.delete(hash);
      return null;
    }
    return e.row;
  }

  set(hash: string, row: ResolvedRow, generation: number, now: number) {
    if (generation !== this.generation) return;
    if (this.entries.size >= CACHE_MAX) this.entries.clear();
    this.entries.set(hash, { row, at: now });
  }

  invalidate(what: SessionInvalidation) {
    this.generation++;
    const sessions = new Set(what.sessionIds ?? []);
    const users = new Set(what.userIds ?? []);
    for (const [hash, e] of this.entries) {
      if (sessions.has(e.row.session.id) || users.has(e.row.user.id)) this.entries.delete(hash);
    }
  }
}

interface ResolvedRow {
  session: SessionRow;
  user: UserRow;
}

const caches = new WeakMap<BankContext, SessionCache>();
function cacheOf(ctx: BankContext): SessionCache {
  let c = caches.get(ctx);
  if (!c) caches.set(ctx, (c = new SessionCache()));
  return c;
}

/** Drops cached sessions in this process (another process's invalidation, arriving over Redis). */
export function invalidateSessionsLocally(ctx: BankContext, what: SessionInvalidation): void {
  cacheOf(ctx).invalidate(what);
}

/** After the caller's transaction commits: drop these sessions (or all of these users') everywhere. */
export function invalidateSessionsIn(t: Tx, what: SessionInvalidation): void {
  t.afterCommit.push(() => {
    cacheOf(t.ctx).invalidate(what);
    t.ctx.signals.emit('sessions.invalidated', what);
  });
}

async function readSession(ctx: BankContext, hash: string): Promise<ResolvedRow | null> {
  // One round trip: the session and its user together.
  const row = await ctx
    .db('sessions as s')
    .join('users as u', 'u.id', 's.user_id')
    .where('s.token_hash', hash)
    .first(
      's.id',
      's.user_id',
      's.token_hash',
      's.created_at',
      's.last_seen_at',
      's.expires_at',
      's.revoked_at',
      's.revoked_reason',
      's.ip',
      's.user_agent',
      'u.username',
      'u.password_hash',
      'u.role',
      'u.customer_id',
      'u.display_name',
      'u.active',
      'u.failed_logins',
      'u.locked_until',
      'u.totp_secret',
      'u.totp_enabled',
      'u.created_at as u_created_at',
      'u.updated_at as u_updated_at',
    );
  if (!row) return null;
  return {
    session: {
      id: row.id,
      user_id: row.user_id,
      token_hash: row.token_hash,
      created_at: row.created_at,
      last_seen_at: row.last_seen_at,
      expires_at: row.expires_at,
      revoked_at: row.revoked_at,
      revoked_reason: row.revoked_reason,
      ip: row.ip,
      user_agent: row.user_agent,
    },
    user: {
      id: row.user_id,
      username: row.username,
      password_hash: row.password_hash,
      role: row.role,
      customer_id: row.customer_id,
      display_name: row.display_name,
      active: row.active,
      failed_logins: row.failed_logins,
      locked_until: row.locked_until,
      totp_secret: row.totp_secret,
      totp_enabled: row.totp_enabled,
      created_at: row.u_created_at,
      updated_at: row.u_updated_at,
    },
  };
}

/**
 * The one rule of a session being over: revoked, its user deactivated, past its absolute
 * expiry, or idle longer than the policy allows (`now` in ms since epoch).
 */
export function sessionLive(
  s: Pick<SessionRow, 'revoked_at' | 'expires_at' | 'last_seen_at'>,
  userActive: unknown,
  policy: SessionPolicy,
  now: number,
): boolean {
  if (s.revoked_at || !userActive) return false;
  if (Date.parse(s.expires_at) <= now) return false;
  return Date.parse(s.last_seen_at) + policy.idleMinutes * 60_000 > now;
}

const LIVE_CHUNK = 500;

/**
 * Which of these sessions are still live, judged from the database as resolveSession would
 * (without touching them or the cache). The hub's sweep asks it for its sockets' sessions.
 */
export async function liveSessionIds(ctx: BankContext, ids: number[], policy: SessionPolicy): Promise<Set<number>> {
  const live = new Set<number>();
  const now = ctx.now().getTime();
  for (let i = 0; i < ids.length; i += LIVE_CHUNK) {
    const rows = await ctx
      .db('sessions as s')
      .join('users as u', 'u.id', 's.user_id')
      .whereIn('s.id', ids.slice(i, i + LIVE_CHUNK))
      .select('s.id', 's.revoked_at', 's.expires_at', 's.last_seen_at', 'u.active');
    for (const r of rows) if (sessionLive(r, r.active, policy, now)) live.add(Number(r.id));
  }
  return live;
}

/**
 * Looks a bearer token or cookie up. A revoked, expired or idle session, or one whose
 * user was deactivated, resolves to null.
 */
export async function resolveSession(
  ctx: BankContext,
  token: string | undefined | null,
  policy: SessionPolicy,
): Promise<ResolvedSession | null> {
  if (!token || token.length > 200) return null;
  const hash = hashToken(token);
  const cache = cacheOf(ctx);
  const now = ctx.now().getTime();
  let found = cache.get(hash, Date.now());
  if (!found) {
    const generation = cache.generation;
    found = await readSession(ctx, hash);
    if (!found) return null;
    cache.set(hash, found, generation, Date.now());
  }
  const { session, user } = found;
  if (!sessionLive(session, user.active, policy, now)) return null;
  if (now - Date.parse(session.last_seen_at) > TOUCH_EVERY_MS) {
    session.last_seen_at = new Date(now).toISOString();
    await ctx.db('sessions').where({ id: session.id }).update({ last_seen_at: session.last_seen_at });
  }
  const expiresAt = new Date(
    Math.min(Date.parse(session.expires_at), Date.parse(session.last_seen_at) + policy.idleMinutes * 60_000),
  ).toISOString();
  return {
    session: { ...session },
    user,
    expiresAt,
    actor: { userId: user.id, role: user.role, customerId: user.customer_id, sessionId: session.id },
  };
}

/**
 * Revokes sessions in the caller's transaction and records a session.revoked event for
 * each, so the hub disconnects their sockets on every pod (the relay retries if a pod dies).
 */
export async function revokeSessionsIn(
  t: Tx,
  where: { sessionId?: number; userId?: number; exceptSessionId?: number },
  reason: string,
): Promise<number> {
  let q = t.q<SessionRow>('sessions').whereNull('revoked_at');
  if (where.sessionId !== undefined) q = q.where({ id: where.sessionId });
  if (where.userId !== undefined) q = q.where({ user_id: where.userId });
  if (where.exceptSessionId !== undefined) q = q.whereNot({ id: where.exceptSessionId });
  const ids = (await q.clone().select('id')).map((r) => r.id as number);
  if (!ids.length) return 0;
  await t
    .q('sessions')
    .whereIn('id', ids)
    .update({ revoked_at: t.now, revoked_reason: reason.slice(0, 64) });
  invalidateSessionsIn(t, { sessionIds: ids });
  for (const id of ids) recordEvent(t, 'session.revoked', [rooms.session(id)], { reason, sessionId: id });
  return ids.length;
}

export async function revokeSessions(
  ctx: BankContext,
  where: { sessionId?: number; userId?: number; exceptSessionId?: number },
  reason: string,
): Promise<number> {
  return withTx(ctx, (t) => revokeSessionsIn(t, where, reason));
}

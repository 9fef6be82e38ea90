import { z } from 'zod';
import * as auth from '../../bank/access/index.js';
import { DomainError } from '../../bank/core/index.js';
import type { ResolvedSession } from '../../bank/access/index.js';
import { clearSessionCookie, setSessionCookie } from '../auth.js';
import type { Config } from '../../config.js';
import { createLoginLimiter } from '../login-limiter.js';
import { route } from '../route.js';
import type { LoginLimiter, Services } from '../../runtime/services.js';

// Servers wired without a limiter (tests that assemble the parts) count in memory, one per app.
const fallback = new WeakMap<Services, LoginLimiter>();
function limiterOf(services: Services, config: Config): LoginLimiter {
  if (services.loginLimiter) return services.loginLimiter;
  let l = fallback.get(services);
  if (!l) fallback.set(services, (l = createLoginLimiter({ perMinute: config.LOGIN_RATE_PER_MINUTE, prefix: 'local' })));
  return l;
}

const password = z.string().min(1).max(1000);
const otp = z.string().max(16);
const recoveryCode = z.string().max(32);

route({
  method: 'post',
  path: '/auth/login',
  tag: 'Auth',
  summary: 'Sign in: a bearer token, and the session cookie for browsers',
  access: 'public',
  roles: 'anyone',
  body: z.object({ username: z.string().min(1).max(200), password, otp: otp.optional(), recoveryCode: recoveryCode.optional() }).strict(),
  responses: {
    200: '{token, expiresAt, user}',
    401: 'invalid_credentials, otp_required, invalid_otp (a code is accepted once)',
    423: 'account_locked (this username from this address, for a while)',
    429: 'rate_limited',
  },
  handler: async ({ bank, config, services, body, koa }) => {
    try {
      await limiterOf(services, config).hit(koa.ip);
      const r = await auth.login(
        bank,
        body,
        { ip: koa.ip, userAgent: koa.get('User-Agent') || null },
        {
          idleMinutes: config.SESSION_IDLE_MINUTES,
          absoluteHours: config.SESSION_ABSOLUTE_HOURS,
          maxFailures: config.LOGIN_MAX_FAILURES,
          lockMinutes: config.LOGIN_LOCK_MINUTES,
        },
      );
      setSessionCookie(koa, config, r.token, r.expiresAt);
      services.observe?.login?.('success');
      return { token: r.token, expiresAt: r.expiresAt, user: r.user };
    } catch (err) {
      services.observe?.login?.(err instanceof DomainError ? err.code : 'error');
      throw err;
    }
  },
});

route({
  method: 'post',
  path: '/auth/logout',
  tag: 'Auth',
  summary: 'Sign out: revokes this session and disconnects its sockets',
  roles: 'signed in',
  handler: async ({ bank, config, koa }) => {
    const s = koa.state.session as ResolvedSession;
    await auth.logout(
      bank,
      { id: s.session.id, userId: s.user.id, username: s.user.username },
      { ip: koa.ip, userAgent: koa.get('User-Agent') || null },
    );
    clearSessionCookie(koa, config);
  },
});

route({
  method: 'get',
  path: '/auth/me',
  tag: 'Auth',
  summary: 'The signed-in user',
  roles: 'signed in',
  // `session` tells the web app when to ask "still there?" before the idle limit signs it out.
  handler: async ({ koa, config }) => {
    const s = koa.state.session as ResolvedSession;
    const idleSeconds = Math.round(config.SESSION_IDLE_MINUTES * 60);
    return {
      ...auth.meDto(s.user),
      session: {
        idleSeconds,
        warnSeconds: Math.min(config.SESSION_IDLE_WARNING_SECONDS, Math.floor(idleSeconds / 2)),
        expiresAt: s.expiresAt,
      },
    };
  },
});

route({
  method: 'post',
  path: '/auth/password',
  tag: 'Auth',
  summary: 'Change your password (your other sessions are signed out)',
  roles: 'signed in',
  body: z.object({ currentPassword: password, newPassword: z.string().max(1000) }).strict(),
  responses: { 204: 'Changed', 401: 'invalid_credentials (current password wrong)' },
  handler: async ({ bank, actor, body }) => {
    await auth.changePassword(bank, actor, body);
  },
});

route({
  method: 'post',
  path: '/auth/totp/setup',
  tag: 'Auth',
  summary: 'Start two-factor sign-in: a new secret for an authenticator app (not enabled yet)',
  roles: 'signed in',
  responses: { 200: '{secret, otpauthUrl}', 409: 'already enabled' },
  handler: async ({ bank, actor }) => auth.setupTotp(bank, actor),
});

route({
  method: 'post',
  path: '/auth/totp/enable',
  tag: 'Auth',
  summary: 'Enable two-factor sign-in with a code from the app',
  roles: 'signed in',
  body: z.object({ otp: z.string().max(16) }).strict(),
  responses: { 204: 'Enabled', 401: 'invalid_otp', 409: 'no pending setup, or already enabled' },
  handler: async ({ bank, actor, body }) => {
    await auth.enableTotp(bank, actor, body.otp);
  },
});

route({
  method: 'post',
  path: '/auth/totp/recovery-codes',
  tag: 'Auth',
  summary: 'Ten new one-time recovery codes (the earlier ones stop working); shown only in this answer',
  roles: 'signed in',
  body: z.object({ otp }).strict(),
  responses: { 200: '{codes: [10 strings]}', 401: 'invalid_otp', 409: 'two-factor sign-in is not enabled' },
  handler: async ({ bank, actor, body }) => auth.newRecoveryCodesFor(bank, actor, body.otp),
});

route({
  method: 'post',
  path: '/auth/totp/disable',
  tag: 'Auth',
  summary: 'Turn two-factor sign-in off (password and a code from the app, or a recovery code)',
  roles: 'signed in',
  body: z.object({ password, otp: otp.optional(), recoveryCode: recoveryCode.optional() }).strict(),
  responses: { 204: 'Turned off', 401: 'invalid_credentials, invalid_otp', 409: 'two-factor sign-in is not enabled' },
  handler: async ({ bank, actor, body }) => {
    await auth.disableTotp(bank, actor, body);
  },
});

route({
  method: 'get',
  path: '/auth/sessions',
  tag: 'Auth',
  summary: 'Your signed-in devices (live sessions); `current` is this one',
  roles: 'signed in',
  responses: { 200: '[{id, createdAt, lastSeenAt, ip, userAgent, current}]' },
  handler: async ({ bank, actor, services }) => auth.listOwnSessions(bank, actor, services.sessionPolicy),
});

route({
  method: 'delete',
  path: '/auth/sessions/:id',
  tag: 'Auth',
  summary: 'Sign one of your devices out (its sockets are told and disconnected)',
  roles: 'signed in (own sessions)',
  responses: { 204: 'Signed out', 404: 'not one of your live sessions' },
  handler: async ({ bank, actor, id, config, koa }) => {
    const sessionId = id();
    await auth.revokeOwnSession(bank, actor, sessionId);
    if (sessionId === actor.sessionId) clearSessionCookie(koa, config);
  },
});

import type Koa from 'koa';
import type { BankContext } from '../bank/core/index.js';
import { DomainError } from '../bank/core/index.js';
import { resolveSession } from '../bank/access/index.js';
import type { Config } from '../config.js';
import { SESSION_COOKIE } from '../runtime/cookies.js';
import type { Services } from '../runtime/services.js';

export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m ? m[1] : null;
}

/**
 * COOKIE_SECURE says the public side is HTTPS, typically terminated before us at the
 * ingress; without TRUST_PROXY Koa would think the request plain HTTP and refuse (throw on)
 * a Secure cookie, so we vouch for the connection.
 */
function vouchSecure(ctx: Koa.Context, config: Config) {
  if (config.COOKIE_SECURE) ctx.cookies.secure = true;
}

export function setSessionCookie(ctx: Koa.Context, config: Config, token: string, expiresAt: string) {
  vouchSecure(ctx, config);
  ctx.cookies.set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: config.COOKIE_SECURE,
    path: '/',
    expires: new Date(expiresAt),
    overwrite: true,
  });
}

export function clearSessionCookie(ctx: Koa.Context, config: Config) {
  vouchSecure(ctx, config);
  ctx.cookies.set(SESSION_COOKIE, '', {
    httpOnly: true,
    sameSite: 'strict',
    secure: config.COOKIE_SECURE,
    path: '/',
    expires: new Date(0),
    overwrite: true,
  });
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Resolves the caller from `Authorization: Bearer` or the session cookie into
 * ctx.state.actor / ctx.state.session. Cookie-authenticated writes must carry
 * X-Requested-With (a cross-site form cannot set it).
 */
export function authMiddleware(bank: BankContext, config: Config, services: Services): Koa.Middleware {
  return async (ctx, next) => {
    const bearer = bearerToken(ctx.get('Authorization'));
    const cookie = bearer ? null : ctx.cookies.get(SESSION_COOKIE);
    const resolved = await resolveSession(bank, bearer ?? cookie, services.sessionPolicy);
    if (resolved) {
      ctx.state.actor = { ...resolved.actor, ip: ctx.ip, userAgent: ctx.get('User-Agent') || null };
      ctx.state.session = resolved;
      ctx.state.authVia = bearer ? 'bearer' : 'cookie';
      if (!bearer && !SAFE.has(ctx.method) && !ctx.get('X-Requested-With')) {
        throw new DomainError('forbidden', 'Cookie-authenticated requests that change state must send X-Requested-With');
      }
    }
    await next();
  };
}

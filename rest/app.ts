import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import Router from '@koa/router';
import cors from '@koa/cors';
import helmet from 'koa-helmet';
import serve from 'koa-static';
import { bodyParser } from '@koa/bodyparser';
import type { BankContext } from '../bank/core/index.js';
import { DomainError } from '../bank/core/index.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { authMiddleware, bearerToken } from './auth.js';
import { toHttpError } from './errors.js';
import { ROUTES, handle } from './route.js';
import { DOCS_CSS, DOCS_HTML, DOCS_JS, buildOpenApi } from './openapi.js';
import type { Services } from '../runtime/services.js';
import './routes/index.js';

// rest/app.ts from the sources, dist/rest/app.js once compiled: the client build is
// client/dist at the project root either way.
const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLIENT_DIST = path.resolve(HERE, path.basename(path.dirname(HERE)) === 'dist' ? '../..' : '..', 'client/dist');
export const BODY_LIMIT = '6mb';
/** Operational endpoints keep their own route label (a failing /readyz is not a static file). */
const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/api/openapi.json', '/api/docs']);

export interface AppDeps {
  bank: BankContext;
  config: Config;
  services: Services;
  logger: Logger;
  version?: string;
}

export function createApp(deps: AppDeps): Koa {
  const { bank, config, services, logger } = deps;
  const app = new Koa({ proxy: config.TRUST_PROXY });
  app.silent = true;
  const debug = logger.isLevelEnabled('debug');

  // Request id, structured log line, and the error envelope: no exception escapes as a 5xx body.
  app.use(async (ctx, next) => {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('X-Request-Id');
    const requestId = /^[\w.-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined && ctx.path.startsWith('/api/')) {
        ctx.status = 404;
        ctx.body = { error: { code: 'not_found', message: `No route for ${ctx.method} ${ctx.path}` } };
      }
    } catch (err) {
      const mapped = toHttpError(err);
      if (mapped) {
        if (mapped.status === 503)
          logger.warn({ err, requestId, method: ctx.method, path: ctx.path }, 'database unavailable: answered 503');
        ctx.status = mapped.status;
        ctx.body = mapped.body;
        for (const [k, v] of Object.entries(mapped.headers ?? {})) ctx.set(k, v);
      } else {
        logger.error({ err, requestId, method: ctx.method, path: ctx.path }, 'unhandled error');
        ctx.status = 500;
        ctx.body = { error: { code: 'internal', message: 'Internal error', details: { requestId } } };
      }
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const routeName =
        (ctx.state.routePath as string | undefined) ??
        (OPS_PATHS.has(ctx.path) ? ctx.path : ctx.path.startsWith('/api/') ? 'unmatched' : 'static');
      services.observe?.http?.(ctx.method, routeName, ctx.status, seconds);
      if (debug && ctx.path !== '/healthz' && ctx.path !== '/metrics') {
        logger.debug({ requestId, method: ctx.method, route: routeName, status: ctx.status, ms: Math.round(seconds * 1000) }, 'request');
      }
    }
  });

  // The security headers never change: helmet computes them once, here, not per request.
  const security = staticHeaders(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          // 'self' covers the same origin's ws:/wss: (CSP Level 3); no other host may be reached.
          connectSrc: ["'self'"],
          fontSrc: ["'self'", 'data:'],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
        },
      },
      crossOriginEmbedderPolicy: false,
      referrerPolicy: { policy: 'no-referrer' },
      hsts: config.COOKIE_SECURE ? { maxAge: 15552000 } : false,
    }),
  );
  app.use((ctx, next) => {
    for (const [name, value] of security) ctx.res.setHeader(name, value);
    return next();
  });

  // CORS is closed unless origins are listed: same-origin browsers need none, and then the
  // middleware is not mounted at all (a cross-origin browser gets no Allow-Origin either way).
  const allowed = new Set(config.CORS_ORIGINS);
  if (allowed.size)
    app.use(
      cors({
        origin: (ctx) => {
          const origin = ctx.get('Origin');
          return allowed.has(origin) ? origin : '';
        },
        credentials: true,
        allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
        allowHeaders: ['Content-Type', 'Authorization', 'Idempotency-Key', 'X-Requested-With', 'X-Request-Id'],
        exposeHeaders: ['Idempotent-Replayed', 'Retry-After', 'X-Request-Id'],
        maxAge: 600,
      }),
    );

  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: BODY_LIMIT, encoding: 'utf-8' }));
  // NUL cannot be stored in PostgreSQL text and has no business in a bank's data.
  app.use(async (ctx, next) => {
    if (/%00/.test(ctx.querystring) || hasNul(ctx.request.body)) {
      throw new DomainError('invalid_request', 'Text must not contain NUL characters');
    }
    await next();
  });
  app.use(authMiddleware(bank, config, services));

  const ops = new Router();
  ops.get('/healthz', (ctx) => {
    ctx.body = { ok: true };
  });
  ops.get('/readyz', async (ctx) => {
    const checks: Record<string, boolean> = {};
    try {
      await bank.db.raw('SELECT 1');
      checks.database = true;
    } catch {
      checks.database = false;
    }
    for (const check of services.readiness) {
      const [name, ok] = await check().catch(() => ['unknown', false] as [string, boolean]);
      checks[name] = ok;
    }
    // Only the database gates readiness: without Redis money still moves and clients catch
    // up through sync, so taking every pod out of service would turn a degradation into an outage.
    ctx.status = checks.database ? 200 : 503;
    ctx.body = { ok: Object.values(checks).every(Boolean), checks };
  });
  ops.get('/metrics', async (ctx) => {
    if (!services.metricsText) {
      ctx.status = 404;
      return;
    }
    if (config.METRICS_TOKEN && !tokenMatches(bearerToken(ctx.get('Authorization')), config.METRICS_TOKEN)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.body = { error: { code: 'unauthenticated', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' } };
      return;
    }
    const m = await services.metricsText();
    ctx.type = m.contentType;
    ctx.body = m.body;
  });
  const openapi = buildOpenApi(deps.version ?? '0.1.0');
  ops.get('/api/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  ops.get('/api/docs', (ctx) => {
    ctx.type = 'html';
    ctx.body = DOCS_HTML;
  });
  ops.get('/api/docs.js', (ctx) => {
    ctx.type = 'application/javascript';
    ctx.body = DOCS_JS;
  });
  ops.get('/api/docs.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.body = DOCS_CSS;
  });
  app.use(ops.routes());

  const api = new Router({ prefix: '/api/v1' });
  for (const def of ROUTES) {
    api[def.method](
      def.path,
      async (ctx, next) => {
        ctx.state.routePath = `/api/v1${def.path}`;
        await next();
      },
      handle(def, { bank, config, services }),
    );
  }
  app.use(api.routes());

  // The built Vue app, with index.html for client-side routes.
  if (fs.existsSync(CLIENT_DIST)) {
    app.use(serve(CLIENT_DIST, { maxage: 3600_000, index: 'index.html' }));
    const index = path.join(CLIENT_DIST, 'index.html');
    app.use(async (ctx, next) => {
      await next();
      if (
        ctx.status === 404 &&
        ctx.method === 'GET' &&
        !ctx.path.startsWith('/api/') &&
        !ctx.path.startsWith('/socket.io') &&
        fs.existsSync(index)
      ) {
        ctx.type = 'html';
        ctx.set('Cache-Control', 'no-cache');
        ctx.body = fs.createReadStream(index);
      }
    });
  }
  return app;
}

function hasNul(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (depth > 20 || !v || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some((x) => hasNul(x, depth + 1));
  return Object.entries(v).some(([k, x]) => k.includes('\u0000') || hasNul(x, depth + 1));
}

/** Constant-time comparison of a presented token with the configured one. */
function tokenMatches(given: string | null, expected: string): boolean {
  if (!given) return false;
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/**
 * Runs a header-only middleware (helmet) once against a stand-in response and keeps the
 * headers it set, so each request only copies them.
 */
function staticHeaders(mw: Koa.Middleware): [string, string | string[]][] {
  const headers = new Map<string, string | string[]>();
  const res = {
    setHeader: (k: string, v: string | string[]) => headers.set(k, v),
    removeHeader: (k: string) => headers.delete(k),
    getHeader: (k: string) => headers.get(k),
  };
  void mw({ req: { headers: {} }, res } as unknown as Koa.Context, async () => undefined);
  // helmet sets its headers synchronously; a version that did not would leave us without them.
  if (!headers.size) throw new Error('helmet did not set its headers synchronously');
  return [...headers];
}

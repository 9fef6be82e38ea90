import type Koa from 'koa';
import { z, type ZodType } from 'zod';
import type { Actor, BankContext } from '../bank/core/index.js';
import { DomainError, NotFound, Unauthenticated } from '../bank/core/index.js';
import type { IdemRequest } from '../bank/ledger/index.js';
import type { Config } from '../config.js';
import type { Services } from '../runtime/services.js';

export type Method = 'get' | 'post' | 'patch' | 'delete';
/** Who may reach a route at all; finer rules (roles, ownership) live in bank/. */
export type Access = 'public' | 'session';

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw text body (CSV) with its content type. */
  text?: { contentType: string; data: string };
}

export interface HandlerArgs<B, Q> {
  actor: Actor;
  body: B;
  query: Q;
  params: Record<string, string>;
  /** A positive integer path parameter; anything else is a 404 (ids cannot be malformed and exist). */
  id(name?: string): number;
  idem: IdemRequest | null;
  bank: BankContext;
  config: Config;
  services: Services;
  koa: Koa.Context;
}

export interface RouteDef<B = any, Q = any> {
  method: Method;
  /** Path under /api/v1, koa-router syntax (`/accounts/:id`). */
  path: string;
  summary: string;
  tag: string;
  access?: Access;
  /** Which roles may call it, for the docs and the authorization matrix. */
  roles?: string;
  body?: ZodType<B>;
  query?: ZodType<Q>;
  /** Accepts an Idempotency-Key header. */
  idempotent?: boolean;
  /** The operation name idempotency keys are scoped to (defaults to method + path). */
  idemScope?: string;
  responses?: Record<number, string>;
  handler(args: HandlerArgs<B, Q>): Promise<Reply | unknown | void>;
}

export const ROUTES: RouteDef[] = [];

export function route<B = undefined, Q = undefined>(def: RouteDef<B, Q>): RouteDef<B, Q> {
  ROUTES.push(def as RouteDef);
  return def;
}

export function parseId(raw: string | undefined): number {
  if (!raw || !/^[1-9]\d{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new NotFound();
  return Number(raw);
}

/** The Koa middleware that runs one route definition: auth gate, parsing, idempotency, reply. */
export function handle(def: RouteDef, deps: { bank: BankContext; config: Config; services: Services }): Koa.Middleware {
  return async (ctx) => {
    const actor = ctx.state.actor as Actor | undefined;
    if (def.access !== 'public' && !actor) throw new Unauthenticated();
    const body = def.body ? def.body.parse(ctx.request.body ?? {}) : undefined;
    const query = def.query ? def.query.parse({ ...ctx.query }) : undefined;
    let idem: IdemRequest | null = null;
    const rawKey = ctx.get('Idempotency-Key');
    // A header sent empty or blank is a mistake, not "no key" (API.md, second round).
    if (def.idempotent && ctx.headers['idempotency-key'] !== undefined) {
      if (rawKey.length < 1 || rawKey.length > 255 || rawKey.trim() === '') {
        throw new DomainError('invalid_request', 'Idempotency-Key must be 1 to 255 characters, not blank', { fields: ['Idempotency-Key'] });
      }
      idem = {
        scope: `${actor?.userId ?? 'anon'}:${def.idemScope ?? `${def.method} ${def.path}`}`,
        key: rawKey,
        payload: { params: ctx.params, body: ctx.request.body ?? null },
      };
    }
    const params = (ctx as unknown as { params: Record<string, string> }).params ?? {};
    const result = await def.handler({
      actor: actor ?? { userId: null, role: 'customer', customerId: null },
      body: body as never,
      query: query as never,
      params,
      id: (name = 'id') => parseId(params[name]),
      idem,
      bank: deps.bank,
      config: deps.config,
      services: deps.services,
      koa: ctx,
    });
    if (result === undefined) {
      ctx.status = 204;
      return;
    }
    const reply = isReply(result) ? result : { body: result };
    for (const [k, v] of Object.entries(reply.headers ?? {})) ctx.set(k, v);
    if (reply.text) {
      ctx.type = reply.text.contentType;
      ctx.body = reply.text.data;
    } else {
      ctx.body = reply.body ?? null;
    }
    ctx.status = reply.status ?? (reply.body === undefined && !reply.text ? 204 : 200);
  };
}

function isReply(v: unknown): v is Reply {
  return (
    !!v &&
    typeof v === 'object' &&
    ('status' in v || 'headers' in v || 'text' in v) &&
    Object.keys(v).every((k) => ['status', 'body', 'headers', 'text'].includes(k))
  );
}

/** Replies for the result of an idempotent bank call: status, and the replay header. */
export function idemReply<T>(r: { value: T; replayed: boolean }, status: number): Reply {
  return { status, body: r.value, headers: r.replayed ? { 'Idempotent-Replayed': 'true' } : {} };
}

// ---- shared schema pieces -------------------------------------------------------------

/** Amounts are decimal strings; their exact rules are checked by bank/core/money.ts. */
export const amountSchema = z.string().max(64);
export const limitSchema = z.coerce.number().int().min(1).max(500).default(50);
export const cursorSchema = z.string().max(200).optional();
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'not a real date');
export const isoDateTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date or time');
export const idParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const listQuery = z.object({ limit: limitSchema, cursor: cursorSchema });

/** The cursor of a list: the last id of the page before. */
export function decodeCursor(cursor: string | undefined): number | null {
  if (!cursor) return null;
  if (!/^\d{1,15}$/.test(cursor)) throw new DomainError('invalid_request', 'cursor is not valid', { fields: ['cursor'] });
  return Number(cursor);
}

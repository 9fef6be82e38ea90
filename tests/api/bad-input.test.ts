import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { buildWorld, CALLERS, type World } from '../helpers/world.js';
import { MATRIX } from '../helpers/matrix.js';

let srv: TestServer;
let w: World;

beforeAll(async () => {
  srv = await startTestServer({ env: { LOGIN_RATE_PER_MINUTE: '100000', LOGIN_MAX_FAILURES: '1000000' } });
  w = await buildWorld(srv);
});
afterAll(() => srv?.close());

/**
 * What a refused request must leave exactly as it was. (idempotency_keys is left out: a
 * refusal by a business rule is remembered there on purpose, so a retry answers the same.)
 */
async function fingerprint(w: World) {
  const db = w.db;
  const tables = [
    'customers',
    'addresses',
    'users',
    'sessions',
    'branches',
    'account_types',
    'interest_rates',
    'accounts',
    'account_edits',
    'closed_accounts',
    'transactions',
    'entries',
    'tickets',
    'ticket_messages',
    'announcements',
    'notifications',
    'audit_log',
    'events',
    'payees',
    'standing_orders',
    'standing_order_runs',
    'balance_alerts',
  ];
  const out: Record<string, unknown> = {};
  for (const t of tables) out[t] = Number((await db(t).count({ n: '*' }))[0].n);
  const sums = (await db('accounts').sum({ b: 'balance', h: 'held' }))[0];
  out.balances = `${sums.b}/${sums.h}`;
  out.statuses = (await db('accounts').select('status').orderBy('id')).map((r) => r.status[0]).join('');
  out.tickets = (await db('tickets').select('status', 'priority', 'assignee_id').orderBy('id'))
    .map((r) => `${r.status}${r.priority}${r.assignee_id}`)
    .join();
  out.revoked = Number((await db('sessions').whereNotNull('revoked_at').count({ n: '*' }))[0].n);
  out.updated = (await db('customers').max({ m: 'updated_at' }))[0].m + (await db('users').max({ m: 'updated_at' }))[0].m;
  return out;
}

const huge = 'x'.repeat(100_000);
const badScalar = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    1e21,
    -0.001,
    '',
    ' ',
    huge,
    '-5',
    '0.001',
    '1e5',
    'NaN',
    '١٢٣',
    '\u202e',
    '<script>',
    "'; DROP TABLE accounts;--",
    [],
    {},
    [1, 2],
    { $gt: '' },
    999_999_999,
    '999999999999',
    Number.MAX_SAFE_INTEGER + 2,
  ),
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
);
const junkBody = fc.oneof(
  fc.constantFrom(
    '{',
    '{"a":',
    'nul',
    '[1,2',
    '"str"',
    '123',
    'null',
    '[]',
    'true',
    '{"amount":1e400}',
    '\u0000',
    '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{}}}',
  ),
  fc.json(),
);

function paths(v: unknown, prefix: string[] = []): string[][] {
  if (!v || typeof v !== 'object') return prefix.length ? [prefix] : [];
  const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
  return [...(prefix.length ? [prefix] : []), ...entries.flatMap(([k, x]) => paths(x, [...prefix, k]))];
}

function setAt(v: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(v) as Record<string, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  cur[path[path.length - 1]] = value;
  return copy;
}

const writes = Object.keys(MATRIX).filter((k) => !k.startsWith('GET '));

describe('bad input never answers 5xx and changes nothing', () => {
  for (const key of writes) {
    it(key, async () => {
      const [method] = key.split(' ');
      const row = MATRIX[key];
      const caller = (['admin', 'owner', 'manager', 'teller', 'anon'] as const).find((c) => row.expect[c] === 'ok')!;
      const template = await row.req(w, caller);
      const fieldPaths = paths(template.body);
      const mutation = fc.oneof(
        junkBody.map((raw) => ({ kind: 'raw', raw })),
        ...(fieldPaths.length
          ? [fc.tuple(fc.constantFrom(...fieldPaths), badScalar).map(([p, value]) => ({ kind: 'field', p, value }))]
          : []),
        fc
          .tuple(
            fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !fieldPaths.some((p) => p[0] === k) && k !== '__proto__'),
            badScalar,
          )
          .map(([k, value]) => ({ kind: 'extra', k, value })),
        fc.constantFrom('0', '-1', 'abc', '99999999', '1.5', '1e3', '9007199254740993', '%00', '..').map((id) => ({ kind: 'path', id })),
        fc.constant({ kind: 'key' }),
      );
      await fc.assert(
        fc.asyncProperty(mutation, async (m: any) => {
          const req = await row.req(w, caller);
          const before = await fingerprint(w);
          let path = req.path;
          let body: unknown = req.body ?? {};
          const headers: Record<string, string> = { 'Idempotency-Key': w.unique('bad') };
          if (m.kind === 'raw') body = m.raw;
          if (m.kind === 'field') body = setAt(req.body, m.p, m.value);
          if (m.kind === 'extra') body = { ...(req.body as object), [m.k]: m.value };
          if (m.kind === 'path') {
            const replaced = path.replace(/\/(\d+)(?=\/|$|\?)/, `/${m.id}`);
            if (replaced === path) return;
            path = replaced;
          }
          if (m.kind === 'key') headers['Idempotency-Key'] = 'k'.repeat(300);
          const payload = method === 'DELETE' ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
          const res = await w.client(caller, req.token).call(method, path, payload, headers);
          expect(res.status, `${key} ${JSON.stringify(m).slice(0, 200)} → ${res.text.slice(0, 200)}`).toBeLessThan(500);
          if (res.status >= 400) {
            expect(res.body?.error?.code, res.text.slice(0, 200)).toMatch(/^[a-z_]+$/);
            if (key !== 'POST /auth/login')
              expect(await fingerprint(w), `${key} ${JSON.stringify(m).slice(0, 200)} changed something`).toEqual(before);
          }
        }),
        { numRuns: 14, seed: 20261124 },
      );
    });
  }

  it('covers every caller kind in the matrix', () => {
    expect(CALLERS.length).toBe(6);
  });
});

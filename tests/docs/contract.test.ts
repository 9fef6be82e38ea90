/**
 * docs/api.md stays true to the code: every route rest/routes/ declares (the same list
 * rest/openapi.ts builds the OpenAPI document from) is written there as `METHOD /path`, and
 * every server → client event — each key of ServerEvents in shared/events.ts, and each event
 * bank/ records by name with recordEvent(t, '<name>', …) — is named there in backticks. A new
 * route or event without its line in the contract breaks this test, not a client. No server,
 * no database: importing the route modules only registers their declarations.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../rest/route.js';
import '../../rest/routes/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const doc = read('docs/api.md');

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `GET /accounts` must appear as itself, not only as the start of `GET /accounts/:id`. */
const mentionsRoute = (method: string, p: string) => new RegExp(`${method} ${escape(p)}(?![\\w/:-])`).test(doc);
const mentionsEvent = (name: string) => doc.includes(`\`${name}\``);

/** The keys of `interface ServerEvents { … }` (quoted or bare), read from the source. */
function serverEventKeys(): string[] {
  const src = read('shared/events.ts');
  const body = /export interface ServerEvents\s*\{([\s\S]*?)\n\}/.exec(src)?.[1] ?? '';
  return [...body.matchAll(/^\s*(?:'([^']+)'|([A-Za-z_$][\w$]*))\??\s*:/gm)].map((m) => m[1] ?? m[2]);
}

/** Events bank/ records under a literal name: recordEvent(t, 'name', …). */
function recordedEvents(): string[] {
  const names = new Set<string>();
  const files = (fs.readdirSync(path.join(ROOT, 'bank'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(20);
  for (const file of files) {
    for (const m of read(`bank/${file}`).matchAll(/recordEvent\(\s*t\s*,\s*'([^']+)'/g)) names.add(m[1]);
  }
  return [...names].sort();
}

/**
 * Events bank/ records under a computed name (recordEvent(t, type, …), the name chosen a line
 * above): found here by hand, so the grep above does not miss them silently.
 */
const COMPUTED = ['transaction.approved', 'transaction.rejected', 'announcement.updated', 'announcement.withdrawn'];

describe('docs/api.md, the public contract', () => {
  it('names every declared route as METHOD /path', () => {
    expect(ROUTES.length).toBeGreaterThan(50);
    const missing = ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).filter((line) => {
      const [method, p] = line.split(' ');
      return !mentionsRoute(method, p);
    });
    expect(missing).toEqual([]);
  });

  it('names the operational endpoints and where the OpenAPI document is served', () => {
    for (const p of ['/healthz', '/readyz', '/metrics', '/api/openapi.json', '/api/docs']) expect(mentionsRoute('GET', p), p).toBe(true);
  });

  it('names every event of ServerEvents (shared/events.ts)', () => {
    const keys = serverEventKeys();
    // The parse itself must work: these have been there since the first round.
    expect(keys).toEqual(expect.arrayContaining(['balance.updated', 'notification', 'session.revoked', 'presence.ticket']));
    expect(keys.filter((k) => !mentionsEvent(k))).toEqual([]);
  });

  it('names every event bank/ records, also those not (yet) in ServerEvents', () => {
    const recorded = recordedEvents();
    expect(recorded).toEqual(expect.arrayContaining(['account.opened', 'customer.created', 'customer.updated', 'notification.read']));
    expect([...recorded, ...COMPUTED].filter((e) => !mentionsEvent(e))).toEqual([]);
  });

  it('lists every error code bank/core/errors.ts can carry', () => {
    const src = read('bank/core/errors.ts');
    const union = /export type ErrorCode\s*=([\s\S]*?);/.exec(src)?.[1] ?? '';
    const codes = [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThan(15);
    // Answered outside the ErrorCode union (rest/errors.ts, rest/app.ts, hub/commands.ts).
    codes.push('unavailable', 'internal');
    expect(codes.filter((c) => !mentionsEvent(c))).toEqual([]);
  });
});

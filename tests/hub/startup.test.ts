import { afterAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { spawnServer, type ServerProcess } from '../helpers/hub.js';
import { verifyLedger } from '../../bank/ledger/verify.js';
import { verifyAudit } from '../../bank/audit/chain.js';

let testDb: TestDb | undefined;
const servers: ServerProcess[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.kill('SIGTERM')));
  await testDb?.destroy();
});

describe('several pods starting together on a fresh PostgreSQL database', () => {
  it('migrate, create the bank accounts, the admin and the demo data exactly once', async () => {
    testDb = await createTestDb('pg', { migrate: false });
    const env = {
      DATABASE_URL: testDb.url,
      DATABASE_POOL_MAX: '4',
      DEMO_DATA: '1',
      BANK_ADMIN_PASSWORD: 'first-admin-pass-1',
      ROLE: 'web',
    };
    servers.push(...(await Promise.all([spawnServer(env), spawnServer(env), spawnServer(env)])));
    expect(servers.every((s) => s.alive())).toBe(true);
    const db = testDb.db;
    const users = await db('users').select('username').orderBy('username');
    expect(users.map((u) => u.username)).toEqual(['admin', 'asha', 'manoj', 'meera', 'ravi', 'tara']);
    expect(Number((await db('accounts').whereNotNull('internal_code').count({ n: '*' }))[0].n)).toBe(16);
    expect(Number((await db('customers').count({ n: '*' }))[0].n)).toBe(3);
    expect((await verifyLedger({ db })).ok).toBe(true);
    expect((await verifyAudit({ db })).ok).toBe(true);
    // The admin came from BANK_ADMIN_PASSWORD, so no process prints a demo password for it.
    for (const s of servers) expect(s.output()).not.toMatch(/admin\s+admin-demo-2026/);
  }, 120_000);
});

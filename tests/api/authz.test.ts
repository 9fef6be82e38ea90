import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../rest/route.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { buildWorld, CALLERS, type World } from '../helpers/world.js';
import { MATRIX } from '../helpers/matrix.js';

let srv: TestServer;
let w: World;

beforeAll(async () => {
  srv = await startTestServer({ env: { LOGIN_RATE_PER_MINUTE: '1000' } });
  w = await buildWorld(srv);
});
afterAll(() => srv?.close());

describe('authorization matrix', () => {
  it('has a row for every route and no row for a route that does not exist', () => {
    const routes = ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect(routes.filter((r) => !MATRIX[r])).toEqual([]);
    expect(Object.keys(MATRIX).filter((k) => !routes.includes(k))).toEqual([]);
  });

  for (const key of Object.keys(MATRIX)) {
    it(key, async () => {
      const [method] = key.split(' ');
      const row = MATRIX[key];
      const got: Record<string, number> = {};
      const want: Record<string, number | string> = {};
      for (const caller of CALLERS) {
        const req = await row.req(w, caller);
        const client = w.client(caller, req.token);
        const res = await client.call(method, req.path, method === 'GET' || method === 'DELETE' ? undefined : (req.body ?? {}), {
          'Idempotency-Key': w.unique('authz'),
        });
        const e = row.expect[caller];
        got[caller] = res.status;
        want[caller] = e === 'ok' ? (res.status >= 200 && res.status < 300 ? res.status : '2xx') : e;
        if (e !== 'ok' && res.status === e) {
          expect(res.body.error.code).toBe({ 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found' }[e]);
        }
      }
      expect(got).toEqual(want);
    });
  }
});

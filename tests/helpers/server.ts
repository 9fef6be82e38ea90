import { loadConfig } from '../../config.js';
import { createLogger } from '../../log.js';
import { startBank, type Running } from '../../server.js';
import { createTestDb, type TestDb } from './db.js';
import type { Dialect } from '../../db/knex.js';

export interface TestServer {
  running: Running;
  testDb: TestDb;
  url: string;
  close(): Promise<void>;
}

/** A real server (REST, hub, jobs on demand) on a random port, on a fresh database. */
export async function startTestServer(opts: { dialect?: Dialect; env?: Record<string, string> } = {}): Promise<TestServer> {
  const testDb = await createTestDb(opts.dialect ?? 'sqlite', { migrate: false });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: testDb.url,
    DEMO_DATA: '0',
    LOG_LEVEL: 'silent',
    ROLE: 'web',
    MAIL_DIR: `${process.env.TMPDIR ?? '/tmp'}/bank-test-mail-${process.pid}-${Date.now()}`,
    ...opts.env,
  });
  const running = await startBank(config, { logger: createLogger(config.LOG_LEVEL) });
  return {
    running,
    testDb,
    url: running.url,
    async close() {
      await running.stop();
      await testDb.destroy();
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/** A small HTTP client for the API: bearer token, JSON in and out. */
export function apiClient(base: string, token?: string | null) {
  const call = async <T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse<T>> => {
    const res = await fetch(
      `${base}${path.startsWith('/api') || path.startsWith('/healthz') || path.startsWith('/readyz') || path.startsWith('/metrics') ? '' : '/api/v1'}${path}`,
      {
        method,
        headers: {
          ...(body !== undefined && typeof body !== 'string' ? { 'Content-Type': 'application/json' } : {}),
          ...(typeof body === 'string' ? { 'Content-Type': 'application/json' } : {}),
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      },
    );
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // CSV and HTML stay text.
    }
    return { status: res.status, body: parsed as T, headers: res.headers, text };
  };
  return {
    call,
    get: <T = any>(p: string, h?: Record<string, string>) => call<T>('GET', p, undefined, h),
    post: <T = any>(p: string, b?: unknown, h?: Record<string, string>) => call<T>('POST', p, b ?? {}, h),
    patch: <T = any>(p: string, b?: unknown, h?: Record<string, string>) => call<T>('PATCH', p, b ?? {}, h),
    del: <T = any>(p: string, h?: Record<string, string>) => call<T>('DELETE', p, undefined, h),
  };
}
export type ApiClient = ReturnType<typeof apiClient>;

import type { SessionPolicy } from '../bank/access/index.js';

/** Sign-in attempts per client address per minute, counted before any password is checked. */
export interface LoginLimiter {
  /** Counts one attempt from `address`; throws RateLimited (with Retry-After) over the limit. */
  hit(address: string): Promise<void>;
  close(): Promise<void>;
}

/** What server.ts wires into the runtime layers (REST, hub, jobs) besides the bank itself. */
export interface Services {
  sessionPolicy: SessionPolicy;
  /** Sign-in attempts per client address (across pods with Redis); absent: counted in this process's memory. */
  loginLimiter?: LoginLimiter;
  /** Runs a background job now (admin); set by the jobs role, absent when jobs are not wired. */
  runJob?: (name: string) => Promise<unknown>;
  jobNames?: () => string[];
  /** Readiness of what the process depends on beyond the database (Redis). */
  readiness: Array<() => Promise<[name: string, ok: boolean]>>;
  /** Prometheus text exposition, set by the observability wiring. */
  metricsText?: () => Promise<{ contentType: string; body: string }>;
  /** Per-process counters fed by the REST layer (login outcomes, ledger results). */
  observe?: {
    login?(outcome: string): void;
    ledger?(kind: string, outcome: string): void;
    http?(method: string, route: string, status: number, seconds: number): void;
  };
}

import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import { dialectOf, type Dialect } from '../../db/knex.js';
import { DEV_TOTP_KEY, deriveKey, type SecretKey } from './secret-box.js';
import { DEFAULT_SLA, type SlaTargets } from '../support/sla.js';

export type Role = 'customer' | 'teller' | 'manager' | 'admin';
export const ROLES: readonly Role[] = ['customer', 'teller', 'manager', 'admin'];

/** Who is acting: a signed-in user, or the system (jobs, bootstrap). */
export interface Actor {
  userId: number | null;
  role: Role | 'system';
  customerId: number | null;
  sessionId?: number | null;
  ip?: string | null;
  userAgent?: string | null;
}

export const SYSTEM: Actor = { userId: null, role: 'system', customerId: null };

export interface BankOptions {
  currency: string;
  /** Shards of each hot bank-owned account (cash, interest expense) per currency. */
  hotShards?: number;
  now?: () => Date;
  /** TOTP_ENCRYPTION_KEY: seals TOTP secrets at rest (the public development key when absent). */
  totpEncryptionKey?: string;
  /** Ticket service-level targets per priority (TICKET_SLA). */
  ticketSla?: SlaTargets;
}

export interface BankContext {
  db: Knex;
  dialect: Dialect;
  currency: string;
  hotShards: number;
  now: () => Date;
  ticketSla: SlaTargets;
  /**
   * Emits 'committed' (seqs, events) for each transaction right after it commits. The hub
   * and the metrics listen; bank/ never imports them.
   */
  signals: EventEmitter;
  /** The key TOTP secrets are sealed with (bank/core/secret-box.ts). */
  totpKey: SecretKey;
  /** Bounds of the group-commit writer (bank/ledger/writer.ts); defaults when unset. */
  writerOptions?: { maxItems: number; maxBytes: number };
}

export function createBankContext(db: Knex, opts: BankOptions): BankContext {
  const signals = new EventEmitter();
  signals.setMaxListeners(100);
  return {
    db,
    dialect: dialectOf(db),
    currency: opts.currency,
    hotShards: opts.hotShards ?? 8,
    now: opts.now ?? (() => new Date()),
    ticketSla: opts.ticketSla ?? DEFAULT_SLA,
    signals,
    totpKey: deriveKey(opts.totpEncryptionKey ?? DEV_TOTP_KEY),
  };
}

export const isStaff = (a: Actor) => a.role === 'teller' || a.role === 'manager' || a.role === 'admin' || a.role === 'system';

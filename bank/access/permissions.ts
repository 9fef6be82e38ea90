import type { Actor, Role } from '../core/context.js';
import { Forbidden } from '../core/errors.js';

/**
 * The one table of who may do what. Staff roles are cumulative (teller < manager < admin);
 * customers are listed only where they may act, and then only on what they own.
 */
const STAFF_RANK: Record<Role | 'system', number> = { customer: -1, teller: 1, manager: 2, admin: 3, system: 4 };

/** A staff sign-in's role (teller, manager, admin): not a customer, and not the system actor. */
export const isStaffRole = (role: string) => role === 'teller' || role === 'manager' || role === 'admin';

export const CAPABILITIES = {
  'money.deposit': { minStaff: 'teller', customer: false },
  'money.withdraw': { minStaff: 'teller', customer: false },
  'money.transfer': { minStaff: 'teller', customer: true },
  'money.batch': { minStaff: 'manager', customer: false },
  'approvals.decide': { minStaff: 'manager', customer: false },
  'transactions.list': { minStaff: 'teller', customer: false },
  'transactions.read': { minStaff: 'teller', customer: true },
  'accounts.open': { minStaff: 'teller', customer: false },
  'accounts.edit': { minStaff: 'teller', customer: false },
  'accounts.close': { minStaff: 'manager', customer: false },
  'accounts.read': { minStaff: 'teller', customer: true },
  'accounts.archive': { minStaff: 'manager', customer: false },
  'accounts.freeze': { minStaff: 'teller', customer: true },
  'accounts.lookup': { minStaff: 'teller', customer: true },
  'payees.own': { minStaff: null, customer: true },
  'payees.read': { minStaff: 'teller', customer: true },
  'standingOrders.manage': { minStaff: 'teller', customer: true },
  'alerts.read': { minStaff: 'teller', customer: true },
  'alerts.manage': { minStaff: null, customer: true },
  'transactions.reverse': { minStaff: 'teller', customer: false },
  'customers.create': { minStaff: 'teller', customer: false },
  'customers.search': { minStaff: 'teller', customer: false },
  'customers.read': { minStaff: 'teller', customer: true },
  'customers.edit': { minStaff: 'teller', customer: true },
  'branches.read': { minStaff: 'teller', customer: true },
  'branches.write': { minStaff: 'manager', customer: false },
  'accountTypes.read': { minStaff: 'teller', customer: true },
  'accountTypes.write': { minStaff: 'manager', customer: false },
  'rates.read': { minStaff: 'teller', customer: true },
  'rates.write': { minStaff: 'manager', customer: false },
  'users.manage': { minStaff: 'admin', customer: false },
  'loginEvents.read': { minStaff: 'manager', customer: false },
  'tickets.create': { minStaff: null, customer: true },
  'tickets.read': { minStaff: 'teller', customer: true },
  'tickets.staff': { minStaff: 'teller', customer: false },
  'announcements.read': { minStaff: 'teller', customer: true },
  'announcements.write': { minStaff: 'manager', customer: false },
  'notifications.own': { minStaff: 'teller', customer: true },
  'audit.read': { minStaff: 'manager', customer: false },
  'audit.verify': { minStaff: 'admin', customer: false },
  'ledger.verify': { minStaff: 'admin', customer: false },
  'jobs.run': { minStaff: 'admin', customer: false },
  'webhooks.manage': { minStaff: 'admin', customer: false },
} as const satisfies Record<string, { minStaff: Role | null; customer: boolean }>;

export type Capability = keyof typeof CAPABILITIES;

export function can(actor: Actor, cap: Capability): boolean {
  const rule = CAPABILITIES[cap];
  if (actor.role === 'customer') return rule.customer;
  if (rule.minStaff === null) return false;
  return STAFF_RANK[actor.role] >= STAFF_RANK[rule.minStaff];
}

export function requireCan(actor: Actor, cap: Capability): void {
  if (!can(actor, cap)) throw new Forbidden();
}

export const atLeast = (actor: Actor, role: Role) => actor.role !== 'customer' && STAFF_RANK[actor.role] >= STAFF_RANK[role];

import type { Role } from './types';

const RANK: Record<Role, number> = { customer: 0, teller: 1, manager: 2, admin: 3 };

/** Staff roles are cumulative (admin ⊃ manager ⊃ teller); customers are outside that ladder. */
export function hasRole(role: Role | null | undefined, atLeast: Exclude<Role, 'customer'>): boolean {
  if (!role || role === 'customer') return false;
  return RANK[role] >= RANK[atLeast];
}

export function isStaffRole(role: Role | null | undefined): boolean {
  return !!role && role !== 'customer';
}

export const ROLE_LABEL: Record<Role, string> = {
  customer: 'Customer',
  teller: 'Teller',
  manager: 'Manager',
  admin: 'Administrator',
};

import type { BankContext } from '../bank/context.js';

// Placeholder until the demo data lands.
export async function seedDemo(_bank: BankContext): Promise<{ username: string; password: string; role: string }[]> {
  return [];
}

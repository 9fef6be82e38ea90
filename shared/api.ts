// Request and answer shapes of the REST API that the server builds and the web client sends or
// reads, defined once for both (the socket's events are in shared/events.ts). Types only.

import type { StandingOrderPayload } from './events.js';

/** One sign-in, sign-out, failure or lock-out (GET /login-events, GET /auth/logins). */
export interface LoginEvent {
  id: number;
  userId: number | null;
  username: string;
  kind: 'login' | 'logout' | 'failed' | 'locked';
  ip: string | null;
  userAgent: string | null;
  at: string;
}

/** A customer's address as it is sent (POST /customers, POST /customers/:id/addresses). */
export interface AddressInput {
  line1: string;
  line2?: string | null;
  city: string;
  state?: string | null;
  postalCode: string;
  country: string;
}

/** A new standing order (POST /standing-orders). */
export interface StandingOrderInput {
  fromAccountId: number;
  toAccountNumber: string;
  amount: string;
  memo?: string;
  frequency: StandingOrderPayload['frequency'];
  startDate: string;
  endDate?: string | null;
}

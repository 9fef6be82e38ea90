// Type-level checks of the one event definition (shared/events.ts). Nothing here runs: the
// project typecheck (`tsc -p tsconfig.json`) fails when an event loses its audience, or when
// recordEvent starts accepting a name, payload or room the definition does not allow (each
// `@ts-expect-error` below must stay an error).

import { recordEvent, rooms } from '../../bank/outbox/events.js';
import type { Tx } from '../../bank/core/db-tx.js';
import type { CustomerPayload, EventAudience, ServerEvent, ServerEventName, TransactionPayload } from '../../shared/events.js';

type Is<T extends true> = T;
/** Every event has an audience, and the audience names only events. */
export type _AudienceCoversEvents = Is<[Exclude<ServerEventName, keyof EventAudience>] extends [never] ? true : false>;
export type _AudienceOnlyEvents = Is<[Exclude<keyof EventAudience, ServerEventName>] extends [never] ? true : false>;

declare const customer: CustomerPayload;
declare const transaction: TransactionPayload;

export function _recordEventChecks(t: Tx): void {
  recordEvent(t, 'notification.read', [rooms.user(1)], { id: 1 });
  recordEvent(t, 'customer.updated', [rooms.customer(1), rooms.staff], {
    customer,
    changes: { email: ['a@example.com', 'b@example.com'] },
  });
  recordEvent(t, 'transaction.pending', [rooms.account(1), rooms.customer(1), rooms.managers], { transaction });

  // @ts-expect-error a name outside the definition
  recordEvent(t, 'test.bulk', [rooms.user(1)], { id: 1 });
  // @ts-expect-error a payload that is not the event's
  recordEvent(t, 'notification.read', [rooms.user(1)], { id: '1' });
  // @ts-expect-error a field the event does not have
  recordEvent(t, 'customer.updated', [rooms.staff], { customer, changes: { username: ['a', 'b'] } });
  // @ts-expect-error a room outside its audience (customer.created goes to staff only)
  recordEvent(t, 'customer.created', [rooms.staff, rooms.customer(1)], { customer });
  // @ts-expect-error posted transactions do not go to managers (pending ones do)
  recordEvent(t, 'transaction.posted', [rooms.account(1), rooms.managers], { transaction });
  // @ts-expect-error a room name that is not one
  recordEvent(t, 'notification', ['user:alice'], { id: 1, kind: 'k', title: 't', body: 'b' });
  // @ts-expect-error ephemeral events are sent by the hub, never recorded
  recordEvent(t, 'presence.ticket', [rooms.staff], { ticketId: 1, viewers: [] });
}

/** What clients receive: recorded events carry seq and at, ephemeral ones only at. */
export const _recorded: ServerEvent<'notification.read'> = { id: 1, seq: 1, at: '' };
export const _ephemeral: ServerEvent<'ticket.typing'> = { ticketId: 1, userId: 1, displayName: 'A', at: '' };
// @ts-expect-error a recorded event without its seq
export const _unsequenced: ServerEvent<'notification.read'> = { id: 1, at: '' };

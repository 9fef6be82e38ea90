// Server events to the stores that care: each store registers what it does with the events it
// owns (onServerEvent in its setup); live.ts only receives, orders and delivers them. Payload
// types come from the server's own definitions (shared/events.ts).

import type { ServerEvent, ServerEventName } from '../../shared/events';

export type { ServerEvent, ServerEventName };

export interface EventContext {
  /** Delivered by a catch-up `sync`, not live. */
  replayed: boolean;
  /** This browser had no position in the stream: the catch-up replays history, not news. */
  firstSync: boolean;
}

type Handler<E extends ServerEventName> = (data: ServerEvent<E>, ctx: EventContext) => void;

/**
 * Who handles each event, with an entry for every event of the definition: the client may
 * import only types from shared/, so the names are listed here, and the compiler holds the
 * list to exactly ServerEventName.
 */
const handlers: { [E in ServerEventName]: Array<Handler<E>> } = {
  'balance.updated': [],
  'transaction.posted': [],
  'transaction.pending': [],
  'transaction.approved': [],
  'transaction.rejected': [],
  'transaction.cancelled': [],
  'transaction.reversed': [],
  'account.opened': [],
  'account.updated': [],
  'standing_order.updated': [],
  'customer.created': [],
  'customer.updated': [],
  'ticket.created': [],
  'ticket.updated': [],
  'ticket.message': [],
  'announcement.published': [],
  'announcement.updated': [],
  'announcement.withdrawn': [],
  notification: [],
  'notification.read': [],
  'presence.ticket': [],
  'ticket.typing': [],
  'session.revoked': [],
};

export const SERVER_EVENT_NAMES = Object.keys(handlers) as ServerEventName[];

export function isServerEventName(name: string): name is ServerEventName {
  return Object.hasOwn(handlers, name);
}

/** Registers what to do with one event; returns a function that stops it. */
export function onServerEvent<E extends ServerEventName>(name: E, handler: Handler<E>): () => void {
  const list: Array<Handler<E>> = handlers[name];
  list.push(handler);
  return () => {
    const i = list.indexOf(handler);
    if (i >= 0) list.splice(i, 1);
  };
}

/** Hands one event to whoever registered for it. */
export function deliver<E extends ServerEventName>(name: E, data: ServerEvent<E>, ctx: EventContext): void {
  const list: Array<Handler<E>> = handlers[name];
  for (const h of [...list]) h(data, ctx);
}

/**
 * A notification often repeats what another event of the same commit already put on screen (a
 * deposit's toast, a reply in the open thread). Those events come first, so they mark their
 * family here and the notification then only adds to the bell instead of toasting twice.
 */
const SURFACED_MS = 5_000;
const surfacedAt = new Map<string, number>();
export const markSurfaced = (family: string) => surfacedAt.set(family, Date.now());
export const recentlySurfaced = (family: string | undefined) => !!family && Date.now() - (surfacedAt.get(family) ?? 0) < SURFACED_MS;
export const forgetSurfaced = () => surfacedAt.clear();

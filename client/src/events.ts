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

const handlers = new Map<string, Array<Handler<never>>>();

/** Registers what to do with one event; returns a function that stops it. */
export function onServerEvent<E extends ServerEventName>(name: E, handler: Handler<E>): () => void {
  const list = handlers.get(name) ?? [];
  list.push(handler as Handler<never>);
  handlers.set(name, list);
  return () => handlers.set(name, (handlers.get(name) ?? []).filter((h) => h !== (handler as Handler<never>)));
}

/** Hands one event to whoever registered for it. */
export function deliver(name: string, data: unknown, ctx: EventContext): void {
  for (const h of handlers.get(name) ?? []) (h as (d: unknown, c: EventContext) => void)(data, ctx);
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

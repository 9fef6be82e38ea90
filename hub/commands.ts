import { z, ZodError } from 'zod';
import type { BankContext } from '../bank/core/index.js';
import { DomainError, storeUnavailable, UNAVAILABLE_MESSAGE } from '../bank/core/index.js';
import { rooms } from '../bank/outbox/index.js';
import { syncEvents } from '../bank/outbox/index.js';
import { isStaffRole } from '../bank/access/index.js';
import type { SessionPolicy } from '../bank/access/index.js';
import type { ServerEvent } from '../shared/events.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../runtime/metrics.js';
import { assertAccountWatchable, assertTicketVisible } from './access.js';
import { recheck, type HubSocket } from './auth.js';
import { Bucket, type HubLimits } from './limits.js';
import type { Presence } from './presence.js';
import { entitledRooms } from './rooms.js';

export interface CommandDeps {
  bank: BankContext;
  policy: SessionPolicy;
  presence: Presence;
  metrics: Metrics;
  logger: Logger;
  limits: HubLimits;
}

export interface AckError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
export type Ack = ({ ok: true } & Record<string, unknown>) | { ok: false; error: AckError };

/** The one place errors become socket acknowledgements (rest/errors.ts does it for HTTP). */
export function ackError(err: unknown, logger: Logger): AckError {
  if (err instanceof DomainError) return err.toJSON();
  if (err instanceof ZodError) {
    const fields = [...new Set(err.issues.map((i) => i.path.join('.') || '(payload)'))];
    return { code: 'invalid_request', message: 'The command payload is not valid', details: { fields } };
  }
  const down = storeUnavailable(err);
  if (down)
    return { code: 'unavailable', message: UNAVAILABLE_MESSAGE[down.reason], details: { retryAfterSeconds: down.retryAfterSeconds } };
  logger.error({ err }, 'socket command failed');
  return { code: 'internal', message: 'Internal error' };
}

const MAX_WATCHED = 100;
const ticketInput = z
  .object({
    ticketId: z
      .number()
      .int()
      .positive()
      .max(2 ** 31 - 1),
  })
  .strict();
const accountInput = z
  .object({
    accountId: z
      .number()
      .int()
      .positive()
      .max(2 ** 31 - 1),
  })
  .strict();
const syncInput = z.object({ since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict();

type Handler = (socket: HubSocket, payload: unknown) => Promise<Record<string, unknown>>;

function watch(socket: HubSocket, room: string) {
  if (socket.data.watching.includes(room)) return;
  if (socket.data.watching.length >= MAX_WATCHED)
    throw new DomainError('limit_exceeded', `At most ${MAX_WATCHED} rooms may be watched at once`);
  socket.data.watching = [...socket.data.watching, room];
  void socket.join(room);
}

function unwatch(socket: HubSocket, room: string): boolean {
  if (!socket.data.watching.includes(room)) return false;
  socket.data.watching = socket.data.watching.filter((r) => r !== room);
  void socket.leave(room);
  return true;
}

export function handlers(deps: CommandDeps): Record<string, Handler> {
  const { bank, presence, metrics } = deps;
  return {
    // Replays from the database; see bank/outbox/feed.ts. Clients de-duplicate by seq.
    async sync(socket, payload) {
      const { since } = syncInput.parse(payload);
      const answer = await deps.limits.sync(socket.data.sessionId, () => syncEvents(bank, entitledRooms(socket.data), since));
      metrics.eventsReplayed.inc(answer.events.length);
      return { events: answer.events, upTo: answer.upTo };
    },
    async 'ticket.watch'(socket, payload) {
      const { ticketId } = ticketInput.parse(payload);
      await assertTicketVisible(bank, socket.data, ticketId);
      watch(socket, rooms.ticket(ticketId));
      presence.changed(ticketId);
      return { ticketId };
    },
    async 'ticket.unwatch'(socket, payload) {
      const { ticketId } = ticketInput.parse(payload);
      if (unwatch(socket, rooms.ticket(ticketId))) presence.changed(ticketId);
      return { ticketId };
    },
    // Ephemeral: relayed to the ticket's room and staff, never stored, so no seq.
    async 'ticket.typing'(socket, payload) {
      const { ticketId } = ticketInput.parse(payload);
      if (!socket.data.watching.includes(rooms.ticket(ticketId))) await assertTicketVisible(bank, socket.data, ticketId);
      const d = socket.data;
      // Staff typing reaches staff only (an internal note in progress is not the owner's to see);
      // the owner's typing reaches staff and the owner's other tabs.
      const audience = isStaffRole(d.role) ? [rooms.staff] : [rooms.staff, rooms.ticket(ticketId)];
      socket.to(audience).emit('ticket.typing', {
        ticketId,
        userId: d.userId,
        displayName: d.displayName,
        at: new Date().toISOString(),
      } satisfies ServerEvent<'ticket.typing'>);
      return { ticketId };
    },
    async 'account.watch'(socket, payload) {
      const { accountId } = accountInput.parse(payload);
      await assertAccountWatchable(bank, socket.data, accountId);
      watch(socket, rooms.account(accountId));
      return { accountId };
    },
    async 'account.unwatch'(socket, payload) {
      const { accountId } = accountInput.parse(payload);
      unwatch(socket, rooms.account(accountId));
      return { accountId };
    },
  };
}

/**
 * Wires the client commands onto a socket. Each is rate-limited, re-checks the session
 * (a revoked or expired one is disconnected), validates its payload, and answers through
 * the acknowledgement callback when the client gave one.
 */
export function registerCommands(socket: HubSocket, deps: CommandDeps, table: Record<string, Handler>) {
  const bucket = new Bucket();
  for (const [name, handler] of Object.entries(table)) {
    socket.on(name, async (...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (a: Ack) => void) : null;
      const reply = (a: Ack) => {
        deps.metrics.socketCommands.inc({ command: name, outcome: a.ok ? 'ok' : a.error.code });
        if (ack && socket.connected) ack(a);
      };
      if (!bucket.take()) {
        reply({ ok: false, error: { code: 'rate_limited', message: 'Too many commands; slow down', details: { retryAfterSeconds: 1 } } });
        return;
      }
      try {
        if (!(await recheck(deps.bank, deps.policy, socket))) {
          reply({ ok: false, error: { code: 'unauthenticated', message: 'The session is over; sign in again' } });
          socket.disconnect(true);
          return;
        }
        reply({ ok: true, ...(await handler(socket, args[0])) });
      } catch (err) {
        reply({ ok: false, error: ackError(err, deps.logger) });
      }
    });
  }
  socket.onAny((name: unknown, ...args: unknown[]) => {
    if (typeof name === 'string' && Object.hasOwn(table, name)) return;
    const ack = args[args.length - 1];
    if (typeof ack === 'function' && bucket.take()) ack({ ok: false, error: { code: 'not_found', message: 'No such command' } });
  });
}

import type { Server } from 'socket.io';
import { rooms } from '../bank/outbox/index.js';
import type { ServerEvent, TicketViewer } from '../shared/events.js';
import type { Logger } from '../log.js';
import type { SocketData } from './auth.js';

/**
 * Who is looking at which ticket. The truth is room membership across every pod
 * (fetchSockets goes through the Redis adapter); when Redis cannot answer, this pod's
 * sockets are the best we know. Presence is ephemeral: its events carry `at` but no seq
 * (they are not in the outbox, so there is nothing to de-duplicate or replay).
 */
export class Presence {
  /** Per ticket: a computation is running, and whether another is due after it. */
  private readonly inFlight = new Map<number, { again: boolean }>();
  private closed = false;

  constructor(
    private readonly io: Server,
    private readonly logger: Logger,
  ) {}

  async viewers(ticketId: number): Promise<TicketViewer[]> {
    const room = rooms.ticket(ticketId);
    let sockets: { data: Partial<SocketData> }[];
    try {
      sockets = await this.io.in(room).fetchSockets();
    } catch {
      sockets = await this.io.local.in(room).fetchSockets();
    }
    const byUser = new Map<number, TicketViewer>();
    for (const s of sockets) {
      const d = s.data;
      if (typeof d?.userId === 'number' && !byUser.has(d.userId))
        byUser.set(d.userId, { userId: d.userId, displayName: String(d.displayName ?? '') });
    }
    return [...byUser.values()].sort((a, b) => a.userId - b.userId);
  }

  /** Recomputes and announces a ticket's viewers; concurrent changes coalesce into one more run. */
  changed(ticketId: number): void {
    if (this.closed) return;
    const running = this.inFlight.get(ticketId);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    this.inFlight.set(ticketId, state);
    void (async () => {
      try {
        do {
          state.again = false;
          const viewers = await this.viewers(ticketId);
          if (this.closed) return;
          // Staff only (API.md): who at the bank is looking is not the ticket owner's business.
          this.io
            .to(rooms.staff)
            .emit('presence.ticket', { ticketId, viewers, at: new Date().toISOString() } satisfies ServerEvent<'presence.ticket'>);
        } while (state.again && !this.closed);
      } catch (err) {
        this.logger.debug({ err, ticketId }, 'presence update failed');
      } finally {
        this.inFlight.delete(ticketId);
      }
    })();
  }

  close() {
    this.closed = true;
  }
}

import type { Server, Socket } from 'socket.io';
import { RateLimited } from '../bank/core/index.js';
import type { SocketData } from './auth.js';

/**
 * Bounds on what one session or user may take of this process through the socket
 * (issue 9: a hundred sockets on one token, each asking `sync` ten times a second, stalled
 * the server for everyone). Counted per process: each pod protects itself.
 */
export interface HubLimitsOptions {
  socketsPerSession: number;
  socketsPerUser: number;
  /** `sync` commands running at once in this process (each is a few queries and up to 1,000 rows). */
  syncConcurrency: number;
  /** `sync` commands waiting for a slot; beyond this they are refused. */
  syncQueue: number;
  /** `sync` commands one session may start: a burst, then this many per second. */
  syncBurst?: number;
  syncPerSecond?: number;
  /** `sync` commands of one session running at once (two tabs on one cookie sync together). */
  syncPerSession?: number;
}

/** A socket refused at the handshake: the client sees connect_error with message `rate_limited`. */
function refused(message: string): Error {
  const err = new Error('rate_limited') as Error & { data: unknown };
  err.data = { code: 'rate_limited', message, details: { retryAfterSeconds: 5 } };
  return err;
}

/** A token bucket: bursts are fine, floods are refused. */
export class Bucket {
  private tokens: number;
  private last = Date.now();
  constructor(
    private readonly capacity = 30,
    private readonly perSecond = 10,
  ) {
    this.tokens = capacity;
  }
  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
  /** Full again: nothing to remember. */
  get idle(): boolean {
    return this.tokens + ((Date.now() - this.last) / 1000) * this.perSecond >= this.capacity;
  }
}

const inc = (m: Map<number, number>, k: number, by: number) => {
  const n = (m.get(k) ?? 0) + by;
  if (n > 0) m.set(k, n);
  else m.delete(k);
};

export class HubLimits {
  private readonly bySession = new Map<number, number>();
  private readonly byUser = new Map<number, number>();
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly syncBuckets = new Map<number, Bucket>();
  private readonly syncRunning = new Map<number, number>();
  private readonly sweep: NodeJS.Timeout;

  constructor(private readonly o: HubLimitsOptions) {
    // Forget the buckets of sessions that have gone quiet.
    this.sweep = setInterval(() => {
      for (const [k, b] of this.syncBuckets) if (b.idle) this.syncBuckets.delete(k);
    }, 60_000);
    this.sweep.unref();
  }

  /** Socket.IO middleware (after authentication): refuses sockets over the per-session or per-user bound. */
  admission() {
    return (socket: Socket, next: (err?: Error) => void) => {
      const d = socket.data as SocketData;
      if ((this.bySession.get(d.sessionId) ?? 0) >= this.o.socketsPerSession) {
        return next(refused(`At most ${this.o.socketsPerSession} connections per session`));
      }
      if ((this.byUser.get(d.userId) ?? 0) >= this.o.socketsPerUser) {
        return next(refused(`At most ${this.o.socketsPerUser} connections per user`));
      }
      inc(this.bySession, d.sessionId, 1);
      inc(this.byUser, d.userId, 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        inc(this.bySession, d.sessionId, -1);
        inc(this.byUser, d.userId, -1);
      };
      // Whichever comes first: the socket leaving, or its connection closing (also when the
      // client went away before the connection completed).
      socket.once('disconnect', release);
      socket.conn.once('close', release);
      next();
    };
  }

  sockets(): { sessions: number; users: number } {
    return { sessions: this.bySession.size, users: this.byUser.size };
  }

  /**
   * Runs one `sync` within the bounds: the session's rate and its concurrency, then a slot
   * among the process's few (waiting in a short queue). Over any bound: rate_limited.
   */
  async sync<T>(sessionId: number, fn: () => Promise<T>): Promise<T> {
    let bucket = this.syncBuckets.get(sessionId);
    if (!bucket) this.syncBuckets.set(sessionId, (bucket = new Bucket(this.o.syncBurst ?? 10, this.o.syncPerSecond ?? 2)));
    if ((this.syncRunning.get(sessionId) ?? 0) >= (this.o.syncPerSession ?? 2) || !bucket.take()) throw new RateLimited(1);
    if (this.running >= this.o.syncConcurrency) {
      if (this.waiting.length >= this.o.syncQueue) throw new RateLimited(1);
      inc(this.syncRunning, sessionId, 1);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      inc(this.syncRunning, sessionId, 1);
      this.running++;
    }
    try {
      return await fn();
    } finally {
      inc(this.syncRunning, sessionId, -1);
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter (running stays the same).
      if (next) next();
      else this.running--;
    }
  }

  close() {
    clearInterval(this.sweep);
  }
}

/** What a client that does not read may leave queued on this process before it is cut off. */
export const MAX_QUEUED_PACKETS = 1_000;
export const MAX_BUFFERED_BYTES = 1024 * 1024;

interface EngineConn {
  writeBuffer?: unknown[];
  transport?: { name?: string; socket?: { bufferedAmount?: number; terminate?: () => void } };
  close(discard?: boolean): void;
}

/**
 * A client that never reads (a stalled long-poll, a paused WebSocket) makes the server queue
 * every push for it in memory until the ping timeout ends it, tens of seconds later. Every
 * second, sockets whose queue is over the bound are disconnected; they catch up by `sync`
 * when they come back, as after any disconnect.
 */
export function startBackpressureSweep(
  io: Server,
  opts: { everyMs?: number; maxPackets?: number; maxBytes?: number; onCut?: (n: number) => void } = {},
) {
  const maxPackets = opts.maxPackets ?? MAX_QUEUED_PACKETS;
  const maxBytes = opts.maxBytes ?? MAX_BUFFERED_BYTES;
  const timer = setInterval(() => {
    let cut = 0;
    for (const socket of io.of('/').sockets.values()) {
      const conn = socket.conn as unknown as EngineConn;
      const queued = conn.writeBuffer?.length ?? 0;
      const buffered = conn.transport?.socket?.bufferedAmount ?? 0;
      if (queued > maxPackets || buffered > maxBytes) {
        socket.disconnect(true);
        // A plain close waits for the queue to drain, which never happens: drop the queue
        // and the transport now (a WebSocket without its closing handshake).
        conn.transport?.socket?.terminate?.();
        conn.close(true);
        cut++;
      }
    }
    if (cut) opts.onCut?.(cut);
  }, opts.everyMs ?? 1_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

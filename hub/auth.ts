import type { Socket } from 'socket.io';
import type { BankContext, Role } from '../bank/core/index.js';
import { resolveSession, type ResolvedSession, type SessionPolicy } from '../bank/access/index.js';
import { SESSION_COOKIE } from '../runtime/cookies.js';

/**
 * What a socket carries about its session. It travels to other pods in fetchSockets
 * answers, so it holds no secret: the token stays in `tokens` on this process.
 */
export interface SocketData {
  userId: number;
  sessionId: number;
  role: Role;
  customerId: number | null;
  displayName: string;
  /** Rooms joined by command (ticket:<id>, account:<id>), authorised when joined. */
  watching: string[];
  /** When the session was last re-checked (ms since epoch). */
  checkedAt: number;
}

export type HubSocket = Socket<
  Record<string, (...args: any[]) => void>,
  Record<string, (...args: any[]) => void>,
  Record<string, never>,
  SocketData
>;

/** The session token each local socket presented; never leaves the process. */
export const tokens = new WeakMap<object, string>();

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header || header.length > 8192) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return null;
}

/** `auth: {token}` first, then the session cookie, as REST does with bearer and cookie. */
export function handshakeToken(socket: Socket): string | null {
  const auth = socket.handshake.auth as Record<string, unknown> | undefined;
  const token = auth && typeof auth.token === 'string' && auth.token ? auth.token : null;
  return token ?? cookieValue(socket.handshake.headers.cookie, SESSION_COOKIE);
}

export function dataFrom(s: ResolvedSession, watching: string[] = []): SocketData {
  return {
    userId: s.user.id,
    sessionId: s.session.id,
    role: s.user.role,
    customerId: s.user.customer_id,
    displayName: s.user.display_name,
    watching,
    checkedAt: Date.now(),
  };
}

/** Socket.IO middleware: no valid session, no connection (error message exactly `unauthenticated`). */
export function handshakeAuth(bank: BankContext, policy: SessionPolicy) {
  return (socket: Socket, next: (err?: Error) => void) => {
    const token = handshakeToken(socket);
    resolveSession(bank, token, policy).then(
      (resolved) => {
        if (!resolved) return next(new Error('unauthenticated'));
        socket.data = dataFrom(resolved);
        tokens.set(socket, token!);
        next();
      },
      // The database is unreachable: not the client's fault, and it may retry.
      () => next(new Error('unavailable')),
    );
  };
}

const RECHECK_MS = 5_000;

/**
 * Re-resolves the session of a socket before a command (at most every few seconds), so a
 * revoked, expired or demoted session stops being served even if its disconnect was lost.
 * Returns false when the session is over (the caller disconnects the socket).
 */
export async function recheck(bank: BankContext, policy: SessionPolicy, socket: HubSocket): Promise<boolean> {
  if (Date.now() - socket.data.checkedAt < RECHECK_MS) return true;
  const resolved = await resolveSession(bank, tokens.get(socket), policy);
  if (!resolved || resolved.session.id !== socket.data.sessionId) return false;
  const before = socket.data;
  socket.data = dataFrom(resolved, before.watching);
  return before.role === socket.data.role && before.customerId === socket.data.customerId;
}

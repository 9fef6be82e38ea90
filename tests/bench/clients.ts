/**
 * A child process of the benchmark runner that holds many Socket.IO clients (one Manager per
 * socket, websocket transport) and records when events arrive. Driven over IPC:
 *   {type: 'connect', url, tokens, concurrency} → {type: 'connected', connected, failed, ms, error?}
 *   {type: 'report'} → {type: 'report', balance: [transactionId, atMs, receivedAt][],
 *                       announcements: [announcementId, receivedAt][]} (and forgets them)
 *   {type: 'close'} → closes every socket and exits.
 * Times are epoch milliseconds with sub-millisecond precision (same clock as the runner's).
 */
import { io, type Socket } from 'socket.io-client';

type Command = { type: 'connect'; url: string; tokens: string[]; concurrency: number } | { type: 'report' } | { type: 'close' };

const sockets: Socket[] = [];
let balance: [number, number, number][] = [];
let announcements: [number, number][] = [];
const now = () => performance.timeOrigin + performance.now();
const send = (msg: unknown) => process.send?.(msg);

function open(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = io(url, {
      path: '/socket.io',
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: 60_000,
      auth: { token },
    });
    s.on('balance.updated', (d: { transactionId: number; at: string }) => {
      balance.push([d.transactionId, Date.parse(d.at), now()]);
    });
    s.on('announcement.published', (d: { announcement: { id: number } }) => {
      announcements.push([d.announcement.id, now()]);
    });
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => {
      s.close();
      reject(err);
    });
  });
}

async function connectAll(url: string, tokens: string[], concurrency: number) {
  const started = now();
  let next = 0;
  let failed = 0;
  let error: string | undefined;
  const worker = async () => {
    while (next < tokens.length) {
      const token = tokens[next++];
      try {
        sockets.push(await open(url, token));
      } catch (err) {
        failed++;
        error ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tokens.length) }, worker));
  send({ type: 'connected', connected: sockets.length, failed, ms: now() - started, error });
}

process.on('message', (cmd: Command) => {
  if (cmd.type === 'connect') void connectAll(cmd.url, cmd.tokens, cmd.concurrency);
  else if (cmd.type === 'report') {
    send({ type: 'report', balance, announcements, connected: sockets.filter((s) => s.connected).length });
    balance = [];
    announcements = [];
  } else if (cmd.type === 'close') {
    for (const s of sockets) s.close();
    setTimeout(() => process.exit(0), 50);
  }
});
// The runner is gone: nothing left to do here.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });

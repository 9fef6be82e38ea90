import type http from 'node:http';
import { Server } from 'socket.io';
import type { BankContext } from '../bank/core/index.js';
import { sessionRooms } from '../bank/outbox/index.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../runtime/metrics.js';
import type { Services } from '../runtime/services.js';
import { handshakeAuth, type HubSocket } from './auth.js';
import { handlers, registerCommands } from './commands.js';
import { deliverer } from './deliver.js';
import { HubLimits, startBackpressureSweep } from './limits.js';
import { Presence } from './presence.js';
import { Publisher } from './publisher.js';
import { replayLocally } from './recovery.js';
import { startRelay, type RelayOptions } from './relay.js';
import { localLink, redisLink } from './redis.js';
import { startSessionSweep } from './sweep.js';

export interface HubDeps {
  bank: BankContext;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  services: Services;
}

export interface HubOptions {
  relay?: RelayOptions;
  sweepEveryMs?: number;
}

export interface Hub {
  io: Server;
  close(): Promise<void>;
}

/** Bytes a client may send in one message: commands are tiny. */
const MAX_CLIENT_MESSAGE = 64 * 1024;

/**
 * The real-time hub on the REST server's http.Server (path /socket.io): handshake auth,
 * rooms, client commands, the outbox publisher and relay, and the Redis adapter when
 * REDIS_URL is set. See DESIGN.md "Events, the outbox and the hub".
 */
export async function attachHub(server: http.Server, deps: HubDeps, opts: HubOptions = {}): Promise<Hub> {
  const { bank, config, logger, metrics, services } = deps;
  const log = logger.child({ part: 'hub' });
  const link = config.REDIS_URL ? await redisLink(config.REDIS_URL, config.HUB_REDIS_PREFIX, log) : localLink();
  if (config.REDIS_URL) {
    services.readiness.push(() => link.readiness());
    metrics.watchRedis(() => link.clients());
  }

  const origins = config.CORS_ORIGINS;
  const io = new Server(server, {
    path: '/socket.io',
    serveClient: false,
    maxHttpBufferSize: MAX_CLIENT_MESSAGE,
    ...(link.adapter ? { adapter: link.adapter } : {}),
    ...(origins.length ? { cors: { origin: origins, credentials: true } } : {}),
    // A cookie is sent by the browser whoever opened the page: refuse cross-site pages
    // (the session cookie is SameSite=Strict as well; this is the second lock).
    allowRequest: (req, done) => {
      const origin = req.headers.origin;
      if (!origin || !req.headers.cookie) return done(null, true);
      let host: string | null = null;
      try {
        host = new URL(origin).host;
      } catch {
        // a malformed Origin is not ours
      }
      const forwarded = config.TRUST_PROXY
        ? String(req.headers['x-forwarded-host'] ?? '')
            .split(',')[0]
            .trim()
        : '';
      done(null, host === req.headers.host || (!!forwarded && host === forwarded) || origins.includes(origin));
    },
  });

  const presence = new Presence(io, log);
  const limits = new HubLimits({
    socketsPerSession: config.HUB_MAX_SOCKETS_PER_SESSION,
    socketsPerUser: config.HUB_MAX_SOCKETS_PER_USER,
    syncConcurrency: config.HUB_SYNC_CONCURRENCY,
    syncQueue: config.HUB_SYNC_QUEUE,
  });
  const commandDeps = { bank, policy: services.sessionPolicy, presence, metrics, logger: log, limits };
  const table = handlers(commandDeps);

  // Refused handshakes are counted by the error the client is given.
  const counted =
    (mw: Parameters<typeof io.use>[0]): Parameters<typeof io.use>[0] =>
    (socket, next) =>
      mw(socket, (err?: Error) => {
        if (err) metrics.socketRefusals.inc({ reason: err.message });
        next(err);
      });
  io.use(counted(handshakeAuth(bank, services.sessionPolicy)));
  io.use(counted(limits.admission()));
  io.on('connection', (raw) => {
    const socket = raw as unknown as HubSocket;
    metrics.socketConnections.inc();
    metrics.socketConnects.inc({ transport: socket.conn.transport.name });
    void socket.join(sessionRooms(socket.data));
    registerCommands(socket, commandDeps, table);
    socket.on('disconnect', (reason) => {
      metrics.socketConnections.dec();
      metrics.socketDisconnects.inc({ reason });
      for (const room of socket.data.watching) {
        if (room.startsWith('ticket:')) presence.changed(Number(room.slice('ticket:'.length)));
      }
    });
  });

  const deliver = deliverer(io, link, metrics, log);
  const publisher = new Publisher(bank, deliver, log);
  bank.signals.on('committed', publisher.onCommitted);
  const relay = startRelay(bank, link, deliver, log, opts.relay);
  link.onResubscribed((downSince) => {
    replayLocally(io, bank, metrics, log, downSince).catch((err) => log.warn({ err }, 'replay after the Redis gap failed'));
  });
  const sweep = startSessionSweep(io, bank, services.sessionPolicy, log, opts.sweepEveryMs);
  const backpressure = startBackpressureSweep(io, {
    onCut: (n) => log.warn({ sockets: n }, 'disconnected sockets that stopped reading (too much queued for them)'),
  });

  let closing: Promise<void> | null = null;
  return {
    io,
    close: () =>
      (closing ??= (async () => {
        bank.signals.off('committed', publisher.onCommitted);
        presence.close();
        limits.close();
        backpressure.stop();
        await Promise.allSettled([relay.stop(), sweep.stop(), publisher.close()]);
        // io.close() would also close the http.Server and wait for its keep-alive
        // connections; the server's owner does that. Close only what is ours.
        for (const s of io.of('/').sockets.values()) s.disconnect(true);
        await Promise.resolve(io.of('/').adapter.close()).catch(() => undefined);
        io.engine.close();
        await link.close();
      })()),
  };
}

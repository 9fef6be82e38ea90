import type http from 'node:http';
import type { BankContext } from '../bank/context.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../rest/metrics.js';
import type { Services } from '../rest/services.js';

export interface HubDeps {
  bank: BankContext;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  services: Services;
}

export interface Hub {
  close(): Promise<void>;
}

// Placeholder until the hub lands (issue 4): no sockets yet.
export async function attachHub(_server: http.Server, _deps: HubDeps): Promise<Hub> {
  return { close: async () => undefined };
}

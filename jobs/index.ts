import type { BankContext } from '../bank/context.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../rest/metrics.js';
import { NotFound } from '../bank/errors.js';

export interface JobsDeps {
  bank: BankContext;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Schedule and process jobs (worker, all); false: only run-now on request (web). */
  runScheduler: boolean;
}

export interface Jobs {
  names(): string[];
  runNow(name: string): Promise<unknown>;
  stop(): Promise<void>;
}

// Placeholder until the jobs land (issue 5).
export async function startJobs(_deps: JobsDeps): Promise<Jobs> {
  return {
    names: () => [],
    runNow: async (name) => {
      throw new NotFound(`Job ${name}`);
    },
    stop: async () => undefined,
  };
}

import type { TicketPriority } from './tickets.js';

/** Service-level targets of one priority: first staff response and resolution, from the ticket's creation. */
export interface SlaTarget {
  firstResponseMs: number;
  resolutionMs: number;
}
export type SlaTargets = Record<TicketPriority, SlaTarget>;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export const DEFAULT_SLA: SlaTargets = {
  urgent: { firstResponseMs: 15 * MIN, resolutionMs: 4 * HOUR },
  high: { firstResponseMs: 1 * HOUR, resolutionMs: 8 * HOUR },
  normal: { firstResponseMs: 4 * HOUR, resolutionMs: 1 * DAY },
  low: { firstResponseMs: 1 * DAY, resolutionMs: 5 * DAY },
};

const UNIT: Record<string, number> = { m: MIN, h: HOUR, d: DAY };
const DURATION = /^(\d{1,5})([mhd])$/;

function duration(s: string): number | null {
  const m = DURATION.exec(s.trim());
  return m && Number(m[1]) > 0 ? Number(m[1]) * UNIT[m[2]] : null;
}

/**
 * "urgent=15m/4h,low=1d/5d": first response / resolution per priority, in minutes (m), hours
 * (h) or days (d). Priorities not named keep their defaults. Throws a message naming the fault.
 */
export function parseSla(text: string): SlaTargets {
  const out: SlaTargets = structuredClone(DEFAULT_SLA);
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(urgent|high|normal|low)\s*=\s*([^/]+)\/(.+)$/.exec(part);
    const first = m ? duration(m[2]) : null;
    const resolve = m ? duration(m[3]) : null;
    if (!m || first === null || resolve === null) throw new Error(`"${part}" is not priority=FIRST/RESOLUTION (e.g. urgent=15m/4h)`);
    if (first > resolve) throw new Error(`"${part}": the first response cannot be due after the resolution`);
    out[m[1] as TicketPriority] = { firstResponseMs: first, resolutionMs: resolve };
  }
  return out;
}

/** The due times of a ticket of this priority created at createdAt. */
export function dueTimes(sla: SlaTargets, priority: TicketPriority, createdAt: string) {
  const t = Date.parse(createdAt);
  const target = sla[priority];
  return {
    first_response_due_at: new Date(t + target.firstResponseMs).toISOString(),
    resolution_due_at: new Date(t + target.resolutionMs).toISOString(),
  };
}

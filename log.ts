import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string, name = 'bank'): Logger {
  return pino({ name, level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

// Structured logging: one pino logger per process, children per module and per call.
import { pino, type Logger } from 'pino';

export type { Logger };

const level = process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info');

export const rootLogger: Logger = pino({ level, base: { app: 'switchboard' } });

export function moduleLogger(module: string): Logger {
  return rootLogger.child({ module });
}

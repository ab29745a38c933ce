import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * pino JSON to stdout (journald keeps it). Object first, message second.
 * error = data at risk or an operator must act; warn = degraded but recovering;
 * info = lifecycle and batch changes; debug = raw readings.
 */
export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream | number } = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.LINEGATE_LOG_LEVEL ?? 'info',
    base: { service: 'linegate' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'password', '*.password', '*.*.password',
        'token', '*.token', '*.*.token',
        'secret', '*.secret',
        'authorization', '*.authorization', 'req.headers.authorization', 'headers.authorization',
      ],
      censor: '[redacted]',
    },
    formatters: { level: (label) => ({ level: label }) },
  };
  if (opts.destination !== undefined) {
    const dest = typeof opts.destination === 'number' ? pino.destination(opts.destination) : opts.destination;
    return pino(options, dest);
  }
  return pino(options);
}

/** A logger that discards everything (tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

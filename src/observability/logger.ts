// pino JSON logging with secrets redacted wherever they appear in a logged object.

import pino from 'pino';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LoggerOptions {
  level: LogLevel;
  /** Where JSON lines go; standard output when omitted. */
  destination?: pino.DestinationStream;
}

export const REDACTED = '[REDACTED]';

const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'proxy-authorization',
  'Proxy-Authorization',
  'cookie',
  'Cookie',
  'password',
  'token',
  'bearerToken',
  'accessToken',
  'refreshToken',
  'clientSecret',
  'client_secret',
  'apiKey',
];

// Secrets hide in nested structures (an HTTP client error's request headers, a kubeconfig
// user's token), so every key is redacted at the top level and up to four levels deep.
const MAX_DEPTH = 4;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SECRET_KEYS) {
    const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      const prefix = '*.'.repeat(depth);
      paths.push(segment.startsWith('[') ? `${prefix.slice(0, -1)}${segment}` : `${prefix}${segment}`);
    }
  }
  return paths;
}

export function createLogger(options: LoggerOptions): Logger {
  const config: pino.LoggerOptions = {
    level: options.level,
    redact: { paths: redactPaths(), censor: REDACTED },
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}

/** A child logger that stamps the scaler's namespace and name on every line. */
export function scalerLogger(logger: Logger, namespace: string, name: string): Logger {
  return logger.child({ namespace, scaler: name });
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

import pino from 'pino';
import { redactSecrets, redactUrlsIn } from '../core/redact.ts';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** @defaultValue `info` */
  readonly level?: string;
  /** Values to replace with `[redacted]` wherever they appear in a log line. */
  readonly secrets?: readonly string[];
  /** Where lines go; @defaultValue standard output (file descriptor 1). */
  readonly destination?: number | string;
}

/** Field names whose values never reach a log line, whatever they hold. */
const REDACTED_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'headers.authorization',
];

/**
 * Structured JSON logs (pino). Every written line loses the passwords of the URLs in it and
 * every known secret, so a secret from the environment never reaches a log, even inside an
 * error message.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const secrets = [...(options.secrets ?? [])];
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'lifeboat' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      hooks: { streamWrite: (line: string) => redactSecrets(redactUrlsIn(line), secrets) },
    },
    pino.destination({ dest: options.destination ?? 1, sync: false }),
  );
}

/** A logger that drops everything (unit tests, quiet CLI runs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

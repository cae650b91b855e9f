import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { describeUrlValue, findUrlPasswords, MIN_LITERAL_URL_PASSWORD } from '../core/redact.ts';

/** Settings that come from environment variables rather than `lifeboat.yaml`. */
export interface LifeboatEnvironment {
  /** The catalog database (`DATABASE_URL`). @defaultValue `postgres://127.0.0.1:5432/lifeboat` */
  readonly databaseUrl: string;
  /** Redis for the job queue (`REDIS_URL`). @defaultValue `redis://127.0.0.1:6379` */
  readonly redisUrl: string;
  /** Key prefix of the BullMQ queues (`LIFEBOAT_QUEUE_PREFIX`). @defaultValue `lifeboat` */
  readonly queuePrefix: string;
  /** HTTP port (`LIFEBOAT_HTTP_PORT`); 0 picks a free port. @defaultValue `8080` */
  readonly httpPort: number;
  /**
   * The address the HTTP server listens on (`LIFEBOAT_HTTP_HOST`): `0.0.0.0` in a container,
   * so the platform and Prometheus can reach it. @defaultValue `127.0.0.1`
   */
  readonly httpHost: string;
  /** pino log level (`LOG_LEVEL`). @defaultValue `info` */
  readonly logLevel: LogLevel;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// 127.0.0.1 rather than localhost: localhost may resolve to ::1 first, where the local
// PostgreSQL and Redis do not listen.
const DEFAULT_DATABASE_URL = 'postgres://127.0.0.1:5432/lifeboat';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

function urlOf(protocols: readonly string[], example: string) {
  return z
    .string()
    .refine((value) => URL.canParse(value) && protocols.includes(new URL(value).protocol), {
      message: `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL, e.g. ${example}`,
    });
}

const environmentSchema = z.object({
  DATABASE_URL: urlOf(['postgres:', 'postgresql:'], DEFAULT_DATABASE_URL).default(
    DEFAULT_DATABASE_URL,
  ),
  REDIS_URL: urlOf(['redis:', 'rediss:'], DEFAULT_REDIS_URL).default(DEFAULT_REDIS_URL),
  LIFEBOAT_QUEUE_PREFIX: z
    .string()
    .regex(/^\S+$/, 'must be a word without spaces, e.g. lifeboat')
    .default('lifeboat'),
  LIFEBOAT_HTTP_PORT: z
    .string()
    .regex(/^\d+$/, 'must be a port number from 0 to 65535')
    .transform(Number)
    .pipe(z.number().max(65535, 'must be a port number from 0 to 65535'))
    .default(8080),
  LIFEBOAT_HTTP_HOST: z
    .string()
    .regex(/^[\w.:-]+$/, 'must be an address to listen on, e.g. 127.0.0.1 or 0.0.0.0')
    .default('127.0.0.1'),
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `must be one of: ${LOG_LEVELS.join(', ')}` })
    .default('info'),
});

type VariableName = keyof typeof environmentSchema.shape;

/** Variables holding URLs, which may carry a password. */
const URL_VARIABLES: readonly string[] = ['DATABASE_URL', 'REDIS_URL'];

/**
 * An invalid value for its message: a URL variable's as a URL without its password (or only its
 * length when it is not a URL), any other as written.
 */
function shownValue(name: string, value: string): string {
  return URL_VARIABLES.includes(name) ? describeUrlValue(value) : JSON.stringify(value);
}

/**
 * Reads Lifeboat's environment variables. An empty variable counts as unset (compose files
 * often write `LOG_LEVEL=`), so it takes its default.
 *
 * @throws ConfigError naming every invalid variable: `LIFEBOAT_HTTP_PORT: must be a port number…`.
 */
export function readEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): LifeboatEnvironment {
  const names = Object.keys(environmentSchema.shape) as VariableName[];
  const input = Object.fromEntries(names.map((name) => [name, env[name] || undefined]));
  const result = environmentSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const value = input[name];
      const shown = value === undefined ? '' : ` (got ${shownValue(name, value)})`;
      return `${name}: ${issue.message}${shown}`;
    });
    throw new ConfigError(
      `The environment is invalid:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`,
      issues,
    );
  }
  const data = result.data;
  return {
    databaseUrl: data.DATABASE_URL,
    redisUrl: data.REDIS_URL,
    queuePrefix: data.LIFEBOAT_QUEUE_PREFIX,
    httpPort: data.LIFEBOAT_HTTP_PORT,
    httpHost: data.LIFEBOAT_HTTP_HOST,
    logLevel: data.LOG_LEVEL,
  };
}

/**
 * Passwords in the environment's URLs long enough to redact as words, alongside the config's;
 * every URL's password is redacted by pattern anyway.
 */
export function environmentSecrets(environment: LifeboatEnvironment): string[] {
  return [
    ...new Set([
      ...findUrlPasswords(environment.databaseUrl),
      ...findUrlPasswords(environment.redisUrl),
    ]),
  ].filter((password) => password.length >= MIN_LITERAL_URL_PASSWORD);
}

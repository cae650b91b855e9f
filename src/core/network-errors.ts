import { ServiceUnavailableError } from './errors.ts';
import { redactUrl } from './redact.ts';

/**
 * How failures to reach a server read for people, whatever the client library: the error's
 * code (`ECONNREFUSED`), and a reason such as "connection refused (ECONNREFUSED): nothing
 * listens there". Pure: it only reads the error.
 */

/** The error's code; an AggregateError (IPv6 then IPv4 attempts) gives its first inner code. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors)) return errorCode(errors[0]);
  return undefined;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
]);

/**
 * True for errors that mean the connection to a server is down or was lost (refused, reset,
 * timed out, closed), as opposed to an error the server answered with: a client that
 * reconnects by itself reports these over and over while the server is away.
 */
export function isConnectionError(error: unknown): boolean {
  const code = errorCode(error);
  if (code && CONNECTION_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /^Connection is closed|Stream isn't writeable|connect ETIMEDOUT|socket hang up/i.test(
    message,
  );
}

/**
 * Where a socket error says it tried to connect: `127.0.0.1:5432`, `[::1]:5432`; an
 * AggregateError (IPv6 then IPv4 attempts) gives its first attempt's. Empty when it does not say.
 */
export function errorAddress(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const { address, port, errors } = error as {
    address?: unknown;
    port?: unknown;
    errors?: unknown;
  };
  if (typeof address === 'string' && address !== '') {
    const host = address.includes(':') ? `[${address}]` : address;
    return typeof port === 'number' ? `${host}:${port}` : host;
  }
  if (Array.isArray(errors)) return errorAddress(errors[0]);
  return '';
}

/**
 * Why a connection failed, for people: `connection refused (ECONNREFUSED 127.0.0.1:5432):
 * nothing listens there`, with the address the error names when it names one.
 */
export function networkReason(error: unknown, timeoutMs: number): string {
  const code = errorCode(error);
  const at = errorAddress(error);
  const codeAt = at ? `${code} ${at}` : code;
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused (${codeAt}): nothing listens there`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `host unreachable (${codeAt})`;
    case 'ETIMEDOUT':
      return `no answer within ${timeoutMs / 1000} s (timeout${at ? ` connecting to ${at}` : ''})`;
    case 'ECONNRESET':
      return `the connection was reset (${codeAt})`;
    default:
      return errorMessage(error) || 'unknown error';
  }
}

/** The error's message, else its code or name; the thrown value as text when not an Error. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || errorCode(error) || error.name;
  return String(error);
}

const HOW_TO_GET_ONE = [
  'To get one:',
  '  - from the Lifeboat repository: docker compose up -d postgres redis',
  '  - on Debian or Ubuntu: apt-get install postgresql redis-server, then start them',
  '    (service postgresql start; service redis-server start)',
];

/**
 * `Cannot reach Redis (job queue) at redis://127.0.0.1:6379: connection refused…`, with how to
 * get a server or point `variable` at another. The URL's password never shows.
 */
export function unreachableServiceError(
  service: string,
  url: string,
  reason: string,
  variable: string,
): ServiceUnavailableError {
  return new ServiceUnavailableError(
    'service_unavailable',
    [
      `Cannot reach ${service} at ${redactUrl(url)}: ${reason}.`,
      ...HOW_TO_GET_ONE,
      `  - or set ${variable} to one you already run.`,
    ].join('\n'),
  );
}

/** Why Redis could not be used, for people: authentication, timeout or the network reason. */
export function redisReason(error: unknown, timeoutMs: number, timedOut = false): string {
  const message = errorMessage(error);
  if (/WRONGPASS|NOAUTH|invalid (username-)?password/i.test(message)) {
    return `authentication failed (${message})`;
  }
  if (timedOut || /timed? ?out|ETIMEDOUT/i.test(message)) {
    return `no answer within ${timeoutMs / 1000} s (timeout)`;
  }
  return networkReason(error, timeoutMs);
}

/**
 * Why PostgreSQL could not be used, for people: authentication (with where the password comes
 * from and what decides the method), a server starting or stopping, a timeout, or the network
 * reason with the address. `variable` names the setting that holds the URL (`DATABASE_URL`).
 */
export function postgresReason(error: unknown, timeoutMs: number, variable: string): string {
  const code = errorCode(error);
  const message = errorMessage(error);
  if (code === '28P01' || code === '28000' || /password authentication failed/i.test(message)) {
    return `authentication failed (${message}): check the user and the password in ${variable} (or PGPASSWORD); the server's pg_hba.conf decides which method applies to this user, database and host`;
  }
  if (code === '57P03') return 'the server is starting up or shutting down';
  if (/timeout|timed out/i.test(message) && !code) {
    return `no answer within ${timeoutMs / 1000} s (timeout)`;
  }
  return networkReason(error, timeoutMs);
}

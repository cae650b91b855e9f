/**
 * One error base for the whole project, with a stable string `code` that tests, logs and chat
 * messages can rely on (the shape of Bolt's `CodedError`).
 */
export class LifeboatError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An error whose message is written for the person in chat and is shown as is. */
export class UserFacingError extends LifeboatError {}

/** The configuration file is invalid; `issues` lists every problem by its path. */
export class ConfigError extends UserFacingError {
  readonly issues: readonly string[];

  constructor(message: string, issues: readonly string[] = [], options?: { cause?: unknown }) {
    super('config_invalid', message, options);
    this.issues = issues;
  }
}

/** Input that does not fit the command grammar (unknown command, malformed flag, …). */
export class CommandError extends UserFacingError {}

/** A backup could not be taken; the backup is failed and leaves nothing behind. */
export class BackupError extends LifeboatError {}

/**
 * What a failed restore left in a destination: `unchanged` (exactly as it was), `changed`
 * (written to, not restored: partly restored, or restored with checks that failed) or `unknown`.
 */
export type DestinationAfterFailure = 'unchanged' | 'changed' | 'unknown';

/** A restore could not be done or was refused. */
export class RestoreError extends LifeboatError {
  /** What the failure left in the destination, when the restorer knows. */
  readonly destination: DestinationAfterFailure | undefined;

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; destination?: DestinationAfterFailure },
  ) {
    super(code, message, options);
    this.destination = options?.destination;
  }
}

/** An action was refused by a role or approval policy. */
export class PolicyError extends UserFacingError {}

/** A runbook is malformed or a run cannot advance. */
export class RunbookError extends UserFacingError {}

/** A required service (PostgreSQL, Redis) is not reachable; the message says how to get one. */
export class ServiceUnavailableError extends UserFacingError {}

/** Wraps anything thrown into a `LifeboatError`, keeping the original as `cause`. */
export function asLifeboatError(error: unknown, code = 'internal'): LifeboatError {
  if (error instanceof LifeboatError) return error;
  if (error instanceof Error) return new LifeboatError(code, error.message, { cause: error });
  return new LifeboatError(code, String(error));
}

/** The text a chat user sees for a failure: user-facing errors as is, others short. */
export function describeForUser(error: unknown, reference?: string): string {
  if (error instanceof UserFacingError) return error.message;
  const ref = reference ? ` (see the logs for ${reference})` : '';
  const message = error instanceof Error ? error.message : String(error);
  return `Something went wrong: ${message}${ref}`;
}

/** An error's message, or the thrown value as text when it is not an Error. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

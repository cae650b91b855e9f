import type { CommandResult } from '../bot/command.ts';
import {
  CommandError,
  ConfigError,
  LifeboatError,
  messageOf,
  PolicyError,
  UserFacingError,
} from '../core/errors.ts';
import { exitCodeFor } from './cli-args.ts';

/**
 * How one `lifeboat` run ended: its exit code, and the object `--json` prints as the last line
 * of stdout, which always has a `status` and, unless the run succeeded, an `error`.
 */
export interface CliOutcome {
  readonly code: number;
  readonly result: { readonly status: string; readonly [key: string]: unknown };
}

/** A command's result as the outcome of the run: exit code from its status. */
export function resultOutcome(result: CommandResult): CliOutcome {
  return { code: exitCodeFor(result), result };
}

/**
 * The exit code of a session of several commands (the console in a pipe): 1 when any failed,
 * else 2 when any was bad input, else 3 when any was refused, unavailable or left waiting for
 * approval, else 4 when a backup completed incomplete, else 0.
 */
export function sessionExitCode(codes: Iterable<number>): number {
  const seen = new Set(codes);
  return [1, 2, 3, 4].find((code) => seen.has(code)) ?? 0;
}

/** A run that succeeded, with what `--json` should say about it. */
export function okOutcome(fields: Readonly<Record<string, unknown>> = {}): CliOutcome {
  return { code: 0, result: { status: 'ok', ...fields } };
}

/** Bad command-line input (exit 2). */
export function invalidOutcome(error: string): CliOutcome {
  return { code: 2, result: { status: 'invalid', error } };
}

/**
 * What an error that ended the run means for its exit code and `--json`: a bad config or bad
 * input is `invalid` (2), a refusal `refused` (3), anything else `failed` (1), with the error's
 * code when it has one.
 */
export function failureOutcome(error: unknown): CliOutcome {
  const code = error instanceof LifeboatError ? error.code : 'internal';
  const text = messageOf(error);
  if (error instanceof ConfigError) {
    return {
      code: 2,
      result: { status: 'invalid', error: text, code, issues: [...error.issues] },
    };
  }
  if (error instanceof CommandError)
    return { code: 2, result: { status: 'invalid', error: text, code } };
  if (error instanceof PolicyError)
    return { code: 3, result: { status: 'refused', error: text, code } };
  return { code: 1, result: { status: 'failed', error: text, code } };
}

/**
 * The error for a person on stderr: a user-facing message as is (a ConfigError's already lists
 * its issues, each once), anything else on one line, with its stack only at LOG_LEVEL=debug.
 */
export function describeFailure(error: unknown, debug: boolean): string {
  if (error instanceof UserFacingError) return `${error.message}\n`;
  const stack = debug && error instanceof Error ? `${error.stack}\n` : '';
  return `lifeboat: ${messageOf(error)}\n${stack}`;
}

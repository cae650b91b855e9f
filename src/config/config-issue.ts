/** Where in the configuration a problem is: keys and list indexes from the top. */
export type ConfigPath = readonly (string | number)[];

/** One problem with the configuration, before it is formatted as `path: message`. */
export interface ConfigIssue {
  readonly path: ConfigPath;
  readonly message: string;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

/**
 * `profiles.full.targets[2]`: keys joined with dots, list indexes in brackets, and keys that are
 * not plain words (dots, spaces, an empty key) quoted: `targets["my.db"]`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else {
      const key = String(segment);
      if (!PLAIN_KEY.test(key)) text += `[${JSON.stringify(key)}]`;
      else text += text ? `.${key}` : key;
    }
  }
  return text;
}

/** `path: message`; a problem with the whole file has no path and is just the message. */
export function formatIssue(issue: ConfigIssue): string {
  return issue.path.length ? `${formatPath(issue.path)}: ${issue.message}` : issue.message;
}

/** A short description of a value for a message: `"text"`, `7`, `a list`, `an empty value`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/** The environment variables a configuration value was made from. */
export interface ValueOrigin {
  readonly variables: readonly string[];
  /** The value is exactly one variable's value (`"${NAME}"`), with nothing from the file around it. */
  readonly whole: boolean;
}

/** Where the value at a path came from; `undefined` when it is as written in the file. */
export type OriginAt = (path: ConfigPath) => ValueOrigin | undefined;

/** No value came from the environment. */
export const WRITTEN_IN_FILE: OriginAt = () => undefined;

/**
 * A value for a message, as `describeValue` shows it, except one made from environment variables:
 * that is never shown (it may be a secret), only the variables are named —
 * `the value of $AWS_SECRET_ACCESS_KEY (not shown)`.
 */
export function describeValueFrom(value: unknown, origin: ValueOrigin | undefined): string {
  return origin ? `${fromEnvironment(origin)} (not shown)` : describeValue(value);
}

/**
 * A value named after a noun (`unknown target "cahce"`): quoted as written, or, when it came from
 * the environment, `(the value of $NAME, not shown)`.
 */
export function nameValueFrom(value: unknown, origin: ValueOrigin | undefined): string {
  return origin ? `(${fromEnvironment(origin)}, not shown)` : describeValue(value);
}

function fromEnvironment(origin: ValueOrigin): string {
  const names = origin.variables.map((name) => `$${name}`);
  if (origin.whole) return `the value of ${names.join(' and ')}`;
  const list =
    names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `a value built from ${list}`;
}

/** How many valid names a message lists before it only counts the rest. */
export const LISTED_NAMES = 20;

/**
 * `did you mean "cache"?` when a close candidate exists, otherwise the valid choices: the first
 * `LISTED_NAMES` of them and how many more there are.
 */
export function suggestionFor(
  suggestion: string | undefined,
  what: string,
  candidates: readonly string[],
): string {
  if (suggestion) return `did you mean "${suggestion}"?`;
  if (candidates.length === 0) return `no ${what}s are defined`;
  const listed = candidates.slice(0, LISTED_NAMES).join(', ');
  const rest = candidates.length - LISTED_NAMES;
  return rest > 0 ? `${what}s: ${listed} and ${rest} more` : `${what}s: ${listed}`;
}

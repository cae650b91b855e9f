import { z } from 'zod';
import { closestMatch } from '../core/suggest.ts';
import {
  type ConfigIssue,
  type ConfigPath,
  describeValue,
  describeValueFrom,
  type OriginAt,
  WRITTEN_IN_FILE,
} from './config-issue.ts';
import { configSchema, type LifeboatConfig, targetSchema } from './schema.ts';

export type Validation =
  | { readonly ok: true; readonly config: LifeboatConfig }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/**
 * Validates interpolated YAML against the schema and returns every problem as a `ConfigIssue`
 * with a message written for the person editing the file. Messages the schema sets itself
 * (durations, names, cron) win over the ones written here. A value made from environment
 * variables (`originAt`) is never shown in a message: the variables are named instead.
 */
export function validateConfig(value: unknown, originAt: OriginAt = WRITTEN_IN_FILE): Validation {
  const result = configSchema.safeParse(value, { error: messagesFor(originAt, []) });
  if (result.success) return { ok: true, config: result.data };
  const issuesOf = toConfigIssues(originAt, []);
  return {
    ok: false,
    issues: result.error.issues.flatMap((issue) => [
      ...issuesOf(issue),
      ...behindUnknownKind(issue, value, originAt),
    ]),
  };
}

/**
 * A target whose `kind` is missing or unknown fails the union before zod looks at its other
 * keys, which would hide their mistakes until the kind is fixed. They are checked here instead:
 * against the kind the misspelt one is closest to, or, with no close kind, only for keys no kind
 * has and for the keys every kind shares (`environment`).
 */
function behindUnknownKind(
  issue: z.core.$ZodIssue,
  root: unknown,
  originAt: OriginAt,
): ConfigIssue[] {
  if (issue.code !== 'invalid_union' || issue.path.length !== 3 || issue.path[0] !== 'targets') {
    return [];
  }
  const base = issue.path.slice(0, 2).map(String);
  const target = asEntries(asEntries(asEntries(root)?.targets)?.[base[1] ?? '']);
  if (!target) return [];
  const variants = targetSchema.options;
  const kinds = variants.map((variant) => variant.shape.kind.value);
  const guess =
    typeof target.kind === 'string' && !originAt([...base, 'kind'])
      ? closestMatch(target.kind, kinds)
      : undefined;
  const variant = variants.find((v) => v.shape.kind.value === guess);
  if (variant) {
    const checked = variant.safeParse(
      { ...target, kind: guess },
      { error: messagesFor(originAt, base) },
    );
    return checked.success
      ? []
      : checked.error.issues.flatMap(toConfigIssues(originAt, base)).map(under(base));
  }
  const shapes = variants.map((v) => v.shape as Record<string, z.ZodType>);
  const everyKey = [...new Set(shapes.flatMap((shape) => Object.keys(shape)))];
  const issues: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(target)) {
    if (key === 'kind') continue;
    if (!everyKey.includes(key)) {
      issues.push({
        path: [...base, key],
        message: `unknown key; no target kind has it (keys: ${everyKey.join(', ')})`,
      });
      continue;
    }
    const shared = shapes.every((shape) => key in shape) ? shapes[0]?.[key] : undefined;
    const at = [...base, key];
    const checked = shared?.safeParse(value, { error: messagesFor(originAt, at) });
    if (checked && !checked.success) {
      issues.push(...checked.error.issues.flatMap(toConfigIssues(originAt, at)).map(under(at)));
    }
  }
  return issues;
}

function under(base: ConfigPath): (issue: ConfigIssue) => ConfigIssue {
  return (issue) => ({ path: [...base, ...issue.path], message: issue.message });
}

function asEntries(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

const NOUNS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** A zod error map whose issue paths are relative to `base`. */
function messagesFor(originAt: OriginAt, base: ConfigPath) {
  return (issue: z.core.$ZodRawIssue): string | undefined => {
    const origin = originAt([...base, ...pathOf(issue.path ?? [])]);
    return messageFor(issue, (value) => describeValueFrom(value, origin), origin !== undefined);
  };
}

function messageFor(
  issue: z.core.$ZodRawIssue,
  describe: (value: unknown) => string,
  fromEnvironment: boolean,
): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `expected ${NOUNS[issue.expected] ?? issue.expected}, got ${describe(issue.input)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${describeValue(issue.values[0])}, got ${describe(issue.input)}`
        : `must be one of: ${issue.values.join(', ')} (got ${describe(issue.input)})`;
    case 'unrecognized_keys': {
      const valid = issue.inst instanceof z.ZodObject ? Object.keys(issue.inst.shape) : [];
      return `unknown key; valid keys: ${valid.join(', ')}`;
    }
    case 'invalid_union': {
      if (!issue.discriminator || !('options' in issue) || !Array.isArray(issue.options)) {
        return undefined;
      }
      const kinds = issue.options.map(String);
      const input = issue.input as Record<string, unknown> | undefined;
      const given = input?.[issue.discriminator];
      if (given === undefined) return `is required; one of: ${kinds.join(', ')}`;
      const close =
        typeof given === 'string' && !fromEnvironment ? closestMatch(given, kinds) : undefined;
      const hint = close ? `; did you mean "${close}"?` : '';
      return `must be one of: ${kinds.join(', ')} (got ${describe(given)})${hint}`;
    }
    case 'too_small':
      return sizeMessage('at least', issue.origin, Number(issue.minimum), issue.inclusive);
    case 'too_big':
      return sizeMessage('at most', issue.origin, Number(issue.maximum), issue.inclusive);
    default:
      return undefined;
  }
}

function sizeMessage(
  bound: 'at least' | 'at most',
  origin: string,
  limit: number,
  inclusive: boolean | undefined,
): string {
  if (origin === 'array') {
    if (bound === 'at least' && limit === 1) return 'must list at least one item';
    return `must list ${bound} ${limit} items`;
  }
  if (origin === 'string') {
    if (bound === 'at least' && limit === 1) return 'must not be empty';
    return `must be ${bound} ${limit} characters long`;
  }
  if (inclusive === false) return `must be ${bound === 'at least' ? 'more' : 'less'} than ${limit}`;
  return `must be ${bound} ${limit}`;
}

function pathOf(path: readonly PropertyKey[]): ConfigPath {
  return path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
}

/** Issues from a parse whose paths are relative to `base`, as config issues (paths as parsed). */
function toConfigIssues(originAt: OriginAt, base: ConfigPath) {
  return (issue: z.core.$ZodIssue): ConfigIssue[] => {
    const path = pathOf(issue.path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key], message: issue.message }));
    }
    if (issue.code === 'invalid_key') {
      const reasons = issue.issues.map((inner) => inner.message).join('; ');
      return [{ path, message: `invalid name: ${reasons}` }];
    }
    const origin = originAt([...base, ...path]);
    const withoutValue = issue.code === 'custom' ? issue.params?.withoutValue : undefined;
    if (origin && typeof withoutValue === 'string') {
      return [{ path, message: `${withoutValue}; got ${describeValueFrom(undefined, origin)}` }];
    }
    return [{ path, message: issue.message }];
  };
}

import { z } from 'zod';
import { type ConfigIssue, describeValue } from './config-issue.ts';
import { configSchema, type LifeboatConfig } from './schema.ts';

export type Validation =
  | { readonly ok: true; readonly config: LifeboatConfig }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/**
 * Validates interpolated YAML against the schema and returns every problem as a `ConfigIssue`
 * with a message written for the person editing the file. Messages the schema sets itself
 * (durations, names, cron) win over the ones written here.
 */
export function validateConfig(value: unknown): Validation {
  const result = configSchema.safeParse(value, { error: messageFor });
  if (result.success) return { ok: true, config: result.data };
  return { ok: false, issues: result.error.issues.flatMap(toConfigIssues) };
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

function messageFor(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `expected ${NOUNS[issue.expected] ?? issue.expected}, got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${describeValue(issue.values[0])}, got ${describeValue(issue.input)}`
        : `must be one of: ${issue.values.join(', ')} (got ${describeValue(issue.input)})`;
    case 'unrecognized_keys': {
      const valid = issue.inst instanceof z.ZodObject ? Object.keys(issue.inst.shape) : [];
      return `unknown key; valid keys: ${valid.join(', ')}`;
    }
    case 'invalid_union': {
      if (!issue.discriminator || !('options' in issue) || !Array.isArray(issue.options)) {
        return undefined;
      }
      const options = issue.options.map(String).join(', ');
      const input = issue.input as Record<string, unknown> | undefined;
      const given = input?.[issue.discriminator];
      return given === undefined
        ? `is required; one of: ${options}`
        : `must be one of: ${options} (got ${describeValue(given)})`;
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

function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = issue.path.map((segment) =>
    typeof segment === 'number' ? segment : String(segment),
  );
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key], message: issue.message }));
  }
  if (issue.code === 'invalid_key') {
    const reasons = issue.issues.map((inner) => inner.message).join('; ');
    return [{ path, message: `invalid name: ${reasons}` }];
  }
  return [{ path, message: issue.message }];
}

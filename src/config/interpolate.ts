import { type ConfigIssue, type ConfigPath, formatPath, type ValueOrigin } from './config-issue.ts';

/** Variables whose values are treated as secrets and kept out of logs. */
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|IDENTITY/i;

/**
 * `$${` (an escaped, literal `${`), a well-formed `${NAME}` or `${NAME:-default}`, or any other
 * `${…` (malformed). The default runs to the first `}`: defaults cannot nest references.
 */
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{[^}]*\}?/g;

export interface Interpolated {
  readonly value: unknown;
  readonly issues: readonly ConfigIssue[];
  /** Values taken from variables whose names look secret (`*_PASSWORD`, `*_TOKEN`, …). */
  readonly secrets: readonly string[];
  /**
   * The variables a string at `path` was made from, when any was substituted (a default written
   * in the file does not count): messages name them instead of showing the value.
   */
  readonly originAt: (path: ConfigPath) => ValueOrigin | undefined;
}

/**
 * Replaces `${NAME}` in every string of a parsed YAML value with the environment variable
 * `NAME`. `${NAME:-default}` falls back to `default` when the variable is unset or empty, as in
 * the shell; `$${` stands for a literal `${`. A variable that is unset and has no default is an
 * issue at the path of the string that refers to it. Keys are left alone.
 */
export function interpolateEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
): Interpolated {
  const issues: ConfigIssue[] = [];
  const secrets = new Set<string>();
  const origins = new Map<string, ValueOrigin>();

  const substitute = (text: string, path: ConfigPath): string => {
    const variables: string[] = [];
    const result = text.replace(
      REFERENCE,
      (match, name: string | undefined, fallback: string | undefined) => {
        if (match === '$${') return '${';
        if (name === undefined) {
          issues.push({
            path,
            message: `malformed variable reference ${JSON.stringify(match)}; write \${NAME} or \${NAME:-default}, or $\${ for a literal "\${"`,
          });
          return match;
        }
        if (fallback?.includes('${')) {
          issues.push({
            path,
            message: `the default of \${${name}} cannot refer to another variable`,
          });
          return match;
        }
        const found = env[name];
        if (found === undefined || (found === '' && fallback !== undefined)) {
          if (fallback !== undefined) return fallback;
          issues.push({ path, message: `environment variable ${name} is not set` });
          return match;
        }
        if (found && SECRET_NAME.test(name)) secrets.add(found);
        if (!variables.includes(name)) variables.push(name);
        return found;
      },
    );
    if (variables.length > 0) {
      const whole = variables.length === 1 && text === `\${${variables[0]}}`;
      origins.set(formatPath(path), { variables, whole });
    }
    return result;
  };

  const walk = (node: unknown, path: ConfigPath): unknown => {
    if (typeof node === 'string') return substitute(node, path);
    if (Array.isArray(node)) return node.map((item, index) => walk(item, [...path, index]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(
        Object.entries(node).map(([key, item]) => [key, walk(item, [...path, key])]),
      );
    }
    return node;
  };

  return {
    value: walk(value, []),
    issues,
    secrets: [...secrets],
    originAt: (path) => origins.get(formatPath(path)),
  };
}

import { readEnvironment } from '../../src/config/environment.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { ConfigError } from '../../src/core/errors.ts';

type Env = Record<string, string | undefined>;

/** The issues a rejected configuration file reports; fails the test if it is accepted. */
export function configIssues(text: string, env: Env = {}): readonly string[] {
  return issuesOf(() => parseConfig(text, env, 'test.yaml'), 'the configuration');
}

/** The issues a rejected environment reports; fails the test if it is accepted. */
export function environmentIssues(env: Env): readonly string[] {
  return issuesOf(() => readEnvironment(env), 'the environment');
}

function issuesOf(read: () => unknown, what: string): readonly string[] {
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error(`expected ${what} to be rejected`);
}

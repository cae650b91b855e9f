import { resolveProfile } from '../config/profiles.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import {
  type CommandSpec,
  type ConfigReference,
  camelCase,
  type ParsedArgs,
} from '../core/command-grammar.ts';
import { CommandError } from '../core/errors.ts';
import { closestMatch } from '../core/suggest.ts';

/** The names the config defines of one kind: its profiles, targets or drills. */
export function configNames(
  config: { readonly [K in 'profiles' | 'targets' | 'drills']: Readonly<Record<string, unknown>> },
  kind: ConfigReference,
): string[] {
  switch (kind) {
    case 'profile':
      return Object.keys(config.profiles);
    case 'target':
      return Object.keys(config.targets);
    case 'drill':
      return Object.keys(config.drills);
  }
}

const PLURAL: Record<ConfigReference, string> = {
  profile: 'profiles',
  target: 'targets',
  drill: 'drills',
};

function checkName(config: LifeboatConfig, kind: ConfigReference, name: string): void {
  if (kind === 'profile') {
    resolveProfile(config, name);
    return;
  }
  const names = configNames(config, kind);
  if (names.includes(name)) return;
  const close = closestMatch(name, names);
  const hint = close ? `did you mean "${close}"? ` : '';
  const valid = names.length > 0 ? names.join(', ') : 'none are configured';
  throw new CommandError(
    `unknown_${kind}`,
    `unknown ${kind} "${name}"; ${hint}${PLURAL[kind]}: ${valid}`,
  );
}

/** The names a parsed value holds: a word, each item of a list, each key and value of a map. */
function namesIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => (typeof v === 'string' ? [k, v] : [k]));
  }
  return [];
}

/**
 * Checks every argument that names a profile, target or drill against the config.
 *
 * @throws CommandError naming the unknown one and listing the valid names.
 */
export function checkConfigReferences(
  command: CommandSpec,
  args: ParsedArgs,
  config: LifeboatConfig,
): void {
  const references = [
    ...command.positionals.map((p) => ({ kind: p.refersTo, value: args[p.key] })),
    ...command.flags.map((f) => ({ kind: f.refersTo, value: args[camelCase(f.name)] })),
  ];
  for (const { kind, value } of references) {
    if (!kind) continue;
    for (const name of namesIn(value)) checkName(config, kind, name);
  }
}

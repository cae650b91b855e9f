import { CommandError } from '../core/errors.ts';
import { closestMatch } from '../core/suggest.ts';
import type { LifeboatConfig } from './schema.ts';

/**
 * The profile a command acts on: `name` when it is a configured profile; with no name, the
 * config's `defaultProfile`, or the only profile when there is just one.
 *
 * @throws CommandError (code `unknown_profile`) when `name` is not a profile, naming the closest
 * one or listing them all; (code `profile_required`) when no name is given and none can be
 * chosen. Both are user-facing: shown in chat as they are.
 */
export function resolveProfile(
  config: Pick<LifeboatConfig, 'profiles' | 'defaultProfile'>,
  name: string | undefined,
): string {
  const names = Object.keys(config.profiles);
  if (name !== undefined) {
    if (names.includes(name)) return name;
    const close = closestMatch(name, names);
    const hint = close ? `did you mean "${close}"? ` : '';
    throw new CommandError(
      'unknown_profile',
      `unknown profile "${name}"; ${hint}profiles: ${names.join(', ')}`,
    );
  }
  if (config.defaultProfile !== undefined && names.includes(config.defaultProfile)) {
    return config.defaultProfile;
  }
  const [only] = names;
  if (names.length === 1 && only !== undefined) return only;
  throw new CommandError(
    'profile_required',
    `no profile given and no defaultProfile set; profiles: ${names.join(', ')}`,
  );
}

import type { REST } from 'discord.js';
import type { CommandSpec } from '../../core/command-grammar.ts';
import { type SlashCommand, slashCommands } from './slash-commands.ts';

export interface RegisterOptions {
  /** REST client with the bot token. */
  readonly rest: Pick<REST, 'put'>;
  readonly applicationId: string;
  /** Register in this guild only (they update at once); absent, globally. */
  readonly guildId?: string;
  readonly commands: readonly CommandSpec[];
}

/** What was registered, and where. */
export interface Registration {
  readonly scope: 'global' | { readonly guild: string };
  readonly commands: readonly SlashCommand[];
}

/**
 * Replaces the application's slash commands with the grammar's: one `PUT` of the whole set, so
 * commands removed from the grammar disappear from Discord too.
 */
export async function registerDiscordCommands(options: RegisterOptions): Promise<Registration> {
  const commands = slashCommands(options.commands);
  const route = options.guildId
    ? (`/applications/${options.applicationId}/guilds/${options.guildId}/commands` as const)
    : (`/applications/${options.applicationId}/commands` as const);
  await options.rest.put(route, { body: commands });
  return { scope: options.guildId ? { guild: options.guildId } : 'global', commands };
}

/** One line per registered command: `/backup create, list, show, verify, prune`. */
export function describeRegistration(registration: Registration): string {
  const where =
    registration.scope === 'global'
      ? 'globally (Discord may take up to an hour to show them)'
      : `in guild ${registration.scope.guild}`;
  const lines = registration.commands.map((c) => {
    const subs = c.options.filter((o) => o.type === 1).map((o) => o.name);
    return subs.length ? `  /${c.name} ${subs.join(', ')}` : `  /${c.name}`;
  });
  return `Registered ${registration.commands.length} Discord commands ${where}:\n${lines.join('\n')}\n`;
}

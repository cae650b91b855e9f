import type { Block, ChatMessage } from '../../chat/message.ts';
import { type CommandSpec, commandName } from '../../core/command-grammar.ts';
import { flagDescription, flagUsage, groupCommands, usageLine } from '../../core/command-help.ts';
import { onCommandLine } from './full-result.ts';

/** `/help`: every command of the grammar, grouped by its first word. */
export function helpOverviewMessage(commands: readonly CommandSpec[]): ChatMessage {
  const blocks: Block[] = [{ type: 'header', text: 'Lifeboat commands' }];
  for (const { commands: group } of groupCommands(commands)) {
    blocks.push({
      type: 'section',
      text: group.map((c) => `\`${usageLine(c)}\` — ${c.summary}`).join('\n'),
    });
  }
  blocks.push({
    type: 'context',
    text: '`/help COMMAND` shows one command in full, e.g. `/help backup create`. On the command line the same words follow `lifeboat`.',
  });
  return {
    text: `Lifeboat commands: ${commands.map((c) => commandName(c)).join(', ')}`,
    blocks,
    fullResult: onCommandLine('help'),
  };
}

/** `/help backup create`: usage, description, arguments, flags and examples of one command. */
export function commandHelpMessage(command: CommandSpec): ChatMessage {
  const usage = usageLine(command);
  const blocks: Block[] = [
    { type: 'header', text: commandName(command) },
    { type: 'code', text: usage },
    {
      type: 'section',
      text: command.description ? `${command.summary}\n${command.description}` : command.summary,
    },
  ];
  if (command.positionals.length > 0) {
    blocks.push({
      type: 'fields',
      fields: command.positionals.map((p) => ({ label: p.name, value: p.description })),
    });
  }
  if (command.flags.length > 0) {
    blocks.push({
      type: 'fields',
      fields: command.flags.map((f) => ({ label: flagUsage(f), value: flagDescription(f) })),
    });
  }
  if (command.examples && command.examples.length > 0) {
    blocks.push({ type: 'code', text: command.examples.join('\n') });
  }
  return {
    text: `${usage} — ${command.summary}`,
    blocks,
    fullResult: onCommandLine(`help ${command.path.join(' ')}`),
  };
}

/** `/help backup`: the commands of one group. */
export function groupHelpMessage(group: string, commands: readonly CommandSpec[]): ChatMessage {
  const members = commands.filter((c) => c.path[0] === group);
  return {
    text: `/${group}: ${members.map((c) => commandName(c)).join(', ')}`,
    fullResult: onCommandLine(`help ${group}`),
    blocks: [
      { type: 'header', text: `/${group}` },
      {
        type: 'section',
        text: members.map((c) => `\`${usageLine(c)}\` — ${c.summary}`).join('\n'),
      },
      {
        type: 'context',
        text: `\`/help ${group} ${members[0]?.path[1] ?? ''}\` shows one in full.`,
      },
    ],
  };
}

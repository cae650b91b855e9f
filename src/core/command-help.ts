import {
  type CommandSpec,
  commandName,
  type FlagSpec,
  type PositionalSpec,
} from './command-grammar.ts';

/** `--note TEXT`, `--dry-run`. */
export function flagUsage(flag: FlagSpec): string {
  return flag.valueName ? `--${flag.name} ${flag.valueName}` : `--${flag.name}`;
}

function positionalUsage(p: PositionalSpec): string {
  const word = p.arity === 'many' ? `${p.name}...` : p.name;
  return p.required ? word : `[${word}]`;
}

/** `/backup create [PROFILE] [--note TEXT] [--no-replicate]`, as in the spec's grammar. */
export function usageLine(spec: CommandSpec): string {
  return [
    commandName(spec),
    ...spec.positionals.map(positionalUsage),
    ...spec.flags.map((f) => `[${flagUsage(f)}]`),
  ].join(' ');
}

/** A flag's description with its bounds and default, for help texts. */
export function flagDescription(flag: FlagSpec): string {
  const notes: string[] = [];
  if (flag.kind === 'int' && flag.min !== undefined && flag.max !== undefined) {
    notes.push(`${flag.min}..${flag.max}`);
  }
  if (flag.kind !== 'boolean' && flag.defaultValue !== undefined) {
    notes.push(`default ${String(flag.defaultValue)}`);
  }
  return notes.length > 0 ? `${flag.description} (${notes.join(', ')})` : flag.description;
}

/** Commands grouped by their `group` (or first word), in declaration order. */
export function groupCommands<C extends CommandSpec>(
  commands: readonly C[],
): { readonly group: string; readonly commands: readonly C[] }[] {
  const groups = new Map<string, C[]>();
  for (const command of commands) {
    const group = command.group ?? command.path[0] ?? '';
    const list = groups.get(group) ?? [];
    list.push(command);
    groups.set(group, list);
  }
  return [...groups].map(([group, list]) => ({ group, commands: list }));
}

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

/** The full help of one command as plain text: usage, description, arguments, flags, examples. */
export function commandHelpText(spec: CommandSpec): string {
  const lines = [usageLine(spec), '', spec.summary];
  if (spec.description) lines.push('', spec.description);
  if (spec.positionals.length > 0) {
    lines.push('', 'Arguments:', ...table(spec.positionals.map((p) => [p.name, p.description])));
  }
  if (spec.flags.length > 0) {
    lines.push('', 'Flags:', ...table(spec.flags.map((f) => [flagUsage(f), flagDescription(f)])));
  }
  if (spec.examples && spec.examples.length > 0) {
    lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  }
  return lines.join('\n');
}

/** Every command, grouped, one usage line and summary each: the text of `/help`. */
export function commandListText(commands: readonly CommandSpec[]): string {
  const lines: string[] = [];
  for (const { group, commands: list } of groupCommands(commands)) {
    if (lines.length > 0) lines.push('');
    lines.push(`${group}:`, ...table(list.map((c) => [usageLine(c), c.summary])));
  }
  return lines.join('\n');
}

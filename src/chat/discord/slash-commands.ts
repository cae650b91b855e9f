import type {
  CommandSpec,
  FlagSpec,
  PositionalSpec,
  SuggestionKind,
} from '../../core/command-grammar.ts';

/**
 * The grammar as Discord slash commands, and back: one top-level command per first word
 * (`backup`, `restore`, `approve`), subcommands from the second, options from positionals and
 * flags. An interaction's options turn back into the command as typed, so it goes through the
 * same parser as a typed command.
 */

/** Discord's application command option types used here. */
export const OptionType = {
  Subcommand: 1,
  SubcommandGroup: 2,
  String: 3,
  Integer: 4,
  Boolean: 5,
} as const;

export interface SlashOption {
  readonly type: number;
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  readonly autocomplete?: boolean;
  readonly min_value?: number;
  readonly max_value?: number;
  readonly options?: readonly SlashOption[];
}

/** A command as `PUT /applications/{app}/commands` takes it (type 1: a slash command). */
export interface SlashCommand {
  readonly type: 1;
  readonly name: string;
  readonly description: string;
  readonly options: readonly SlashOption[];
}

const MAX_NAME = 32;
const MAX_DESCRIPTION = 100;
const MAX_OPTIONS = 25;

function description(text: string): string {
  const plain = text.replace(/\s+/g, ' ').trim() || 'No description.';
  return plain.length <= MAX_DESCRIPTION ? plain : `${plain.slice(0, MAX_DESCRIPTION - 1)}…`;
}

function optionName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^-_a-z0-9]/g, '-')
    .slice(0, MAX_NAME);
}

/** The option name of each positional and flag of `spec`, in grammar order. */
export function optionNames(spec: CommandSpec): {
  readonly positionals: readonly string[];
  readonly flags: readonly string[];
} {
  const flags = spec.flags.map((f) => optionName(f.name));
  const positionals = spec.positionals.map((p) => {
    const name = optionName(p.key);
    // A positional named like a flag of the same command takes a suffix.
    return flags.includes(name) ? optionName(`${name}-value`) : name;
  });
  return { positionals, flags };
}

function suggestionOf(arg: PositionalSpec | FlagSpec): SuggestionKind | undefined {
  return arg.suggests ?? arg.refersTo;
}

function commandOptions(spec: CommandSpec): SlashOption[] {
  const names = optionNames(spec);
  const options: SlashOption[] = [];
  spec.positionals.forEach((p, i) => {
    const suggests = p.arity === 'one' ? suggestionOf(p) : undefined;
    options.push({
      type: OptionType.String,
      name: names.positionals[i] as string,
      description: description(`${p.name}: ${p.description}`),
      required: p.required,
      ...(suggests ? { autocomplete: true } : {}),
    });
  });
  spec.flags.forEach((f, i) => {
    const name = names.flags[i] as string;
    const text = description(f.description);
    if (f.kind === 'boolean') {
      options.push({ type: OptionType.Boolean, name, description: text });
    } else if (f.kind === 'int') {
      options.push({
        type: OptionType.Integer,
        name,
        description: text,
        ...(f.min !== undefined ? { min_value: f.min } : {}),
        ...(f.max !== undefined ? { max_value: f.max } : {}),
      });
    } else {
      const suggests = f.kind === 'string' ? suggestionOf(f) : undefined;
      options.push({
        type: OptionType.String,
        name,
        description: text,
        ...(suggests ? { autocomplete: true } : {}),
      });
    }
  });
  // Discord wants the required options first; the text keeps the grammar's order.
  const sorted = [...options.filter((o) => o.required), ...options.filter((o) => !o.required)];
  if (sorted.length > MAX_OPTIONS) {
    throw new Error(
      `/${spec.path.join(' ')} has ${sorted.length} options; Discord takes ${MAX_OPTIONS}`,
    );
  }
  return sorted;
}

/**
 * The slash commands for `commands`: a command of one word becomes a top-level command, one of
 * two words a subcommand of its first word.
 */
export function slashCommands(commands: readonly CommandSpec[]): SlashCommand[] {
  const top = new Map<string, { summary?: string; spec?: CommandSpec; subs: CommandSpec[] }>();
  for (const spec of commands) {
    const [first, second, ...more] = spec.path;
    if (!first || more.length) {
      throw new Error(`/${spec.path.join(' ')}: Discord commands take one or two words`);
    }
    const entry = top.get(first) ?? { subs: [] };
    if (second === undefined) entry.spec = spec;
    else entry.subs.push(spec);
    top.set(first, entry);
  }
  return [...top].map(([word, entry]) => {
    if (entry.spec && entry.subs.length) {
      throw new Error(`/${word} is a command and has subcommands; Discord allows one or the other`);
    }
    if (entry.spec) {
      return {
        type: 1,
        name: optionName(word),
        description: description(entry.spec.summary),
        options: commandOptions(entry.spec),
      };
    }
    return {
      type: 1,
      name: optionName(word),
      description: description(`${word}: ${entry.subs.map((s) => s.path[1]).join(', ')}`),
      options: entry.subs.map((sub) => ({
        type: OptionType.Subcommand,
        name: optionName(sub.path[1] as string),
        description: description(sub.summary),
        options: commandOptions(sub),
      })),
    };
  });
}

/** An option of a received interaction (`data.options`). */
export interface InteractionOption {
  readonly name: string;
  readonly type: number;
  readonly value?: string | number | boolean;
  readonly options?: readonly InteractionOption[];
  readonly focused?: boolean;
}

/** An application command interaction's `data`, the part that names the command. */
export interface CommandData {
  readonly name: string;
  readonly options?: readonly InteractionOption[];
}

/** A word quoted so `tokenize` reads it back as it is. */
export function quoteWord(word: string): string {
  if (/^[A-Za-z0-9_.,=:@/+%^][A-Za-z0-9_.,=:@/+%^-]*$/.test(word)) return word;
  return `"${word.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The words naming the command, and the options given to it. */
export function commandPath(data: CommandData): {
  readonly words: readonly string[];
  readonly options: readonly InteractionOption[];
} {
  const words = [data.name];
  let options = data.options ?? [];
  for (;;) {
    const [only] = options;
    if (
      options.length !== 1 ||
      !only ||
      (only.type !== OptionType.Subcommand && only.type !== OptionType.SubcommandGroup)
    ) {
      break;
    }
    words.push(only.name);
    options = only.options ?? [];
  }
  return { words, options };
}

function valueText(value: string | number | boolean | undefined): string {
  return value === undefined ? '' : String(value);
}

/**
 * The command an application command interaction stands for, as typed: `/backup create full
 * --note "before deploy"`: positionals in the grammar's order, then flags. Options the grammar
 * does not know become flags, so the parser names them in its answer.
 */
export function commandText(data: CommandData, commands: readonly CommandSpec[]): string {
  const { words, options } = commandPath(data);
  const spec = commands.find(
    (c) => c.path.length === words.length && c.path.every((w, i) => optionName(w) === words[i]),
  );
  const parts = [`/${words.join(' ')}`];
  const byName = new Map(options.map((o) => [o.name, o]));
  if (spec) {
    const names = optionNames(spec);
    spec.positionals.forEach((p, i) => {
      const option = byName.get(names.positionals[i] as string);
      byName.delete(names.positionals[i] as string);
      if (option === undefined) return;
      const text = valueText(option.value);
      if (p.arity === 'many') parts.push(...text.split(/\s+/).filter(Boolean).map(quoteWord));
      else parts.push(quoteWord(text));
    });
    spec.flags.forEach((f, i) => {
      const option = byName.get(names.flags[i] as string);
      byName.delete(names.flags[i] as string);
      if (option === undefined) return;
      if (f.kind === 'boolean') {
        if (option.value === true) parts.push(`--${f.name}`);
        return;
      }
      parts.push(`--${f.name}`, quoteWord(valueText(option.value)));
    });
  }
  for (const [name, option] of byName) {
    if (option.value === true) parts.push(`--${name}`);
    else if (option.value !== false) parts.push(`--${name}`, quoteWord(valueText(option.value)));
  }
  return parts.join(' ');
}

/** The option being typed in an autocomplete interaction, and what it suggests. */
export function focusedOption(
  data: CommandData,
  commands: readonly CommandSpec[],
): { readonly kind: SuggestionKind | undefined; readonly typed: string } | undefined {
  const { words, options } = commandPath(data);
  const focused = options.find((o) => o.focused);
  if (!focused) return undefined;
  const typed = valueText(focused.value);
  const spec = commands.find(
    (c) => c.path.length === words.length && c.path.every((w, i) => optionName(w) === words[i]),
  );
  if (!spec) return { kind: undefined, typed };
  const names = optionNames(spec);
  const p = names.positionals.indexOf(focused.name);
  if (p >= 0) return { kind: suggestionOf(spec.positionals[p] as PositionalSpec), typed };
  const f = names.flags.indexOf(focused.name);
  if (f >= 0) return { kind: suggestionOf(spec.flags[f] as FlagSpec), typed };
  return { kind: undefined, typed };
}

import type { z } from 'zod';
import {
  type CommandSpec,
  camelCase,
  commandName,
  type FlagSpec,
  type ParsedArgs,
  type PositionalSpec,
} from './command-grammar.ts';
import { flagUsage, usageLine } from './command-help.ts';
import { closestMatch } from './suggest.ts';
import { type Token, tokenize } from './tokenize.ts';

/** Why a line did not parse, for callers and tests that care more than the message. */
export type ParseFailureReason =
  | 'empty'
  | 'unterminated_quote'
  | 'control_character'
  | 'unknown_command'
  | 'incomplete_command'
  | 'unknown_flag'
  | 'repeated_flag'
  | 'missing_value'
  | 'unexpected_value'
  | 'invalid_value'
  | 'missing_argument'
  | 'extra_argument';

export type ParseResult<C extends CommandSpec = CommandSpec> =
  | { readonly ok: true; readonly command: C; readonly args: ParsedArgs }
  | {
      readonly ok: false;
      readonly reason: ParseFailureReason;
      /** What was wrong and what is valid, written for the person who typed it. */
      readonly error: string;
      /** The command, when the words named one and its arguments were wrong. */
      readonly command?: C;
    };

type Failure = Extract<ParseResult<never>, { ok: false }>;

class ParseFailure {
  readonly reason: ParseFailureReason;
  readonly error: string;
  constructor(reason: ParseFailureReason, error: string) {
    this.reason = reason;
    this.error = error;
  }
}

const HELP_POINTER = 'Type `/help` for the list of commands.';

/** C0 controls and DEL, but not tab, line feed or carriage return (which separate words). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/**
 * Parses one command line against the grammar. The leading `/` is optional (the CLI passes the
 * words without it). Never throws for bad input: every problem comes back as a message saying
 * what was wrong and what is valid. Knows nothing of the config; unknown profiles and targets are
 * the handlers' to report.
 */
export function parseCommand<C extends CommandSpec>(
  text: string,
  commands: readonly C[],
): ParseResult<C> {
  const control = CONTROL_CHARACTER.exec(text);
  if (control) {
    const code = (control[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    return {
      ok: false,
      reason: 'control_character',
      error: `Could not read that: it holds the invisible control character U+${code} at position ${control.index + 1}. Commands are plain text: type it again without it.`,
    };
  }
  const tokenized = tokenize(text.trim());
  if (!tokenized.ok) {
    return {
      ok: false,
      reason: 'unterminated_quote',
      error: `Could not read that: ${tokenized.error}.`,
    };
  }
  const tokens = withoutSlash(tokenized.tokens);
  if (tokens.length === 0) {
    return { ok: false, reason: 'empty', error: `Type a command. ${HELP_POINTER}` };
  }
  const words = leadingWords(tokens);
  const command = longestMatch(words, commands);
  if (!command) return unknownCommand(words, tokens, commands);
  try {
    const args = parseArguments(command, tokens.slice(command.path.length));
    return { ok: true, command, args };
  } catch (error) {
    if (!(error instanceof ParseFailure)) throw error;
    const usage = `Usage: \`${usageLine(command)}\``;
    const failure: ParseResult<C> = {
      ok: false,
      reason: error.reason,
      error: `${error.error}\n${usage}`,
      command,
    };
    return failure;
  }
}

/** The leading `/` is optional: `/backup` and `backup` are the same; a lone `/` is dropped. */
function withoutSlash(tokens: readonly Token[]): readonly Token[] {
  const [first, ...rest] = tokens;
  if (!first || first.quoted || !first.text.startsWith('/')) return tokens;
  const text = first.text.slice(1);
  return text === '' ? rest : [{ text, quoted: false }, ...rest];
}

function leadingWords(tokens: readonly Token[]): string[] {
  const words: string[] = [];
  for (const token of tokens) {
    if (token.text.startsWith('-')) break;
    words.push(token.text.toLowerCase());
  }
  return words;
}

function longestMatch<C extends CommandSpec>(
  words: readonly string[],
  commands: readonly C[],
): C | undefined {
  let best: C | undefined;
  for (const command of commands) {
    const matches =
      command.path.length <= words.length && command.path.every((word, i) => words[i] === word);
    if (matches && (!best || command.path.length > best.path.length)) best = command;
  }
  return best;
}

function unknownCommand<C extends CommandSpec>(
  words: readonly string[],
  tokens: readonly Token[],
  commands: readonly C[],
): Failure {
  const first = words[0] ?? tokens[0]?.text ?? '';
  const subcommandsOf = (group: string): string[] =>
    commands.filter((c) => c.path.length > 1 && c.path[0] === group).map((c) => c.path[1] ?? '');
  const listing = (group: string): string =>
    commands
      .filter((c) => c.path[0] === group)
      .map((c) => `• \`${usageLine(c)}\` — ${c.summary}`)
      .join('\n');

  const subcommands = subcommandsOf(first);
  if (subcommands.length > 0) {
    const second = words[1];
    if (second === undefined) {
      return {
        ok: false,
        reason: 'incomplete_command',
        error: `\`/${first}\` needs a subcommand:\n${listing(first)}`,
      };
    }
    const guess = closestMatch(second, subcommands);
    const didYouMean = guess ? `; did you mean \`/${first} ${guess}\`?` : '.';
    return {
      ok: false,
      reason: 'unknown_command',
      error: `Unknown command \`/${first} ${second}\`${didYouMean} \`/${first}\` has: ${subcommands.join(', ')}.`,
    };
  }

  const firstWords = [...new Set(commands.map((c) => c.path[0] ?? ''))];
  const guess = closestMatch(first, firstWords);
  let suggestion = guess;
  const second = words[1];
  if (guess && second !== undefined && subcommandsOf(guess).includes(second)) {
    suggestion = `${guess} ${second}`;
  }
  const didYouMean = suggestion ? `; did you mean \`/${suggestion}\`?` : '.';
  return {
    ok: false,
    reason: 'unknown_command',
    error: `Unknown command \`/${first}\`${didYouMean} ${HELP_POINTER}`,
  };
}

function parseArguments(command: CommandSpec, tokens: readonly Token[]): ParsedArgs {
  const args: Record<string, unknown> = {};
  for (const flag of command.flags) args[camelCase(flag.name)] = flag.defaultValue;

  const seen = new Set<string>();
  const positionals: Token[] = [];
  let flagsEnded = false;
  for (let i = 0; i < tokens.length; i += 1) {
    const token = tokens[i] as Token;
    const flagLike = !flagsEnded && token.text.startsWith('-');
    if (!flagLike || token.text === '-') {
      positionals.push(token);
      continue;
    }
    if (token.text === '--') {
      flagsEnded = true;
      continue;
    }
    const eq = token.text.indexOf('=');
    const written = eq < 0 ? token.text : token.text.slice(0, eq);
    const inline = eq < 0 ? undefined : token.text.slice(eq + 1);
    const flag = findFlag(command, written);
    if (seen.has(flag.name)) {
      throw new ParseFailure('repeated_flag', `\`--${flag.name}\` is given twice; give it once.`);
    }
    seen.add(flag.name);
    if (flag.kind === 'boolean') {
      if (inline !== undefined) {
        throw new ParseFailure('unexpected_value', `\`--${flag.name}\` takes no value.`);
      }
      args[camelCase(flag.name)] = true;
      continue;
    }
    let raw = inline;
    if (raw === undefined) {
      const next = tokens[i + 1];
      if (next && (next.quoted || !next.text.startsWith('--'))) {
        raw = next.text;
        i += 1;
      }
    }
    if (raw === undefined || raw === '') {
      throw new ParseFailure(
        'missing_value',
        `\`--${flag.name}\` needs a value: \`${flagUsage(flag)}\`.`,
      );
    }
    args[camelCase(flag.name)] = flagValue(flag, raw);
  }

  let next = 0;
  for (const spec of command.positionals) {
    const remaining = positionals.slice(next);
    if (spec.arity === 'one') {
      const token = remaining[0];
      if (token === undefined) {
        if (spec.required) throw missingArgument(command, spec);
        args[spec.key] = undefined;
        continue;
      }
      args[spec.key] = positionalValue(spec, token.text);
      next += 1;
    } else if (spec.arity === 'rest') {
      if (remaining.length === 0) {
        if (spec.required) throw missingArgument(command, spec);
        args[spec.key] = undefined;
        continue;
      }
      args[spec.key] = positionalValue(spec, remaining.map((t) => t.text).join(' '));
      next = positionals.length;
    } else {
      if (remaining.length === 0 && spec.required) throw missingArgument(command, spec);
      args[spec.key] = remaining.map((t) => positionalValue(spec, t.text));
      next = positionals.length;
    }
  }
  const extra = positionals[next];
  if (extra !== undefined) throw extraArgument(command, extra);
  return args;
}

function findFlag(command: CommandSpec, written: string): FlagSpec {
  const name = written.replace(/^--?/, '');
  const flag = written.startsWith('--') ? command.flags.find((f) => f.name === name) : undefined;
  if (flag) return flag;
  const name_ = commandName(command);
  if (command.flags.length === 0) {
    throw new ParseFailure(
      'unknown_flag',
      `\`${name_}\` takes no flags, so \`${written}\` is not valid.`,
    );
  }
  const guess = closestMatch(
    name,
    command.flags.map((f) => f.name),
  );
  const didYouMean = guess ? `; did you mean \`--${guess}\`?` : '.';
  const valid = command.flags.map((f) => `\`${flagUsage(f)}\``).join(', ');
  throw new ParseFailure(
    'unknown_flag',
    `\`${name_}\` has no flag \`${written}\`${didYouMean} Its flags: ${valid}.`,
  );
}

/**
 * The longest value one argument may have: notes, reasons and break-glass reasons are kept in
 * manifests, the catalog and the audit log, which must stay readable whoever typed what.
 */
export const MAX_ARGUMENT_LENGTH = 1_000;

/** Refuses a value longer than `MAX_ARGUMENT_LENGTH`, naming the argument, the limit and its length. */
function bounded(raw: string, label: string): string {
  if (raw.length <= MAX_ARGUMENT_LENGTH) return raw;
  throw new ParseFailure(
    'invalid_value',
    `${label} is ${raw.length.toLocaleString('en-US')} characters long; it may be at most ${MAX_ARGUMENT_LENGTH.toLocaleString('en-US')}.`,
  );
}

function flagValue(flag: FlagSpec, unbounded: string): unknown {
  const label = `\`--${flag.name}\``;
  const raw = bounded(unbounded, label);
  const what = `value for ${label}`;
  switch (flag.kind) {
    case 'int': {
      const min = flag.min ?? Number.MIN_SAFE_INTEGER;
      const max = flag.max ?? Number.MAX_SAFE_INTEGER;
      const value = /^\+?\d+$/.test(raw) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        throw new ParseFailure(
          'invalid_value',
          `${label} needs a whole number from ${min} to ${max}, not \`${raw}\`.`,
        );
      }
      return value;
    }
    case 'list': {
      const items = raw.split(',').map((item) => item.trim());
      if (items.some((item) => item === '')) {
        throw new ParseFailure(
          'invalid_value',
          `${label} takes a comma-separated list like \`${flag.valueName ?? 'A,B'}\`; \`${raw}\` has an empty item.`,
        );
      }
      return [...new Set(items.map((item) => checked(flag.schema, item, what)))];
    }
    case 'map': {
      // No prototype: `__proto__=x` is a key like any other, never the object's prototype.
      const map: Record<string, string> = Object.create(null);
      for (const entry of raw.split(',').map((e) => e.trim())) {
        const m = /^([^=\s]+)=([^=\s]+)$/.exec(entry);
        if (!m?.[1] || !m[2]) {
          throw new ParseFailure(
            'invalid_value',
            `${label} takes entries like \`${flag.valueName ?? 'KEY=VALUE'}\`; \`${entry}\` is not one.`,
          );
        }
        if (Object.hasOwn(map, m[1])) {
          throw new ParseFailure('invalid_value', `${label} names \`${m[1]}\` twice.`);
        }
        map[m[1]] = checked(flag.schema, m[2], what);
      }
      return map;
    }
    default:
      return checked(flag.schema, raw, what);
  }
}

/** Runs a value through its schema; `what` completes "`x` is not a valid …". */
function checked<T>(schema: z.ZodType | undefined, raw: string, what: string): T {
  if (!schema) return raw as T;
  const result = schema.safeParse(raw);
  if (result.success) return result.data as T;
  const why = result.error.issues[0]?.message ?? 'not valid';
  throw new ParseFailure('invalid_value', `\`${raw}\` is not a valid ${what}: ${why}.`);
}

function positionalValue(spec: PositionalSpec, unbounded: string): unknown {
  const raw = bounded(unbounded, `\`${spec.name}\``);
  return checked(spec.schema, raw, spec.name.split('|')[0] ?? spec.name);
}

function missingArgument(command: CommandSpec, spec: PositionalSpec): ParseFailure {
  return new ParseFailure(
    'missing_argument',
    `\`${commandName(command)}\` needs ${spec.name}: ${lowerFirst(spec.description)}`,
  );
}

function extraArgument(command: CommandSpec, extra: Token): ParseFailure {
  const expected = command.positionals.map((p) => p.name);
  const takes =
    expected.length === 0 ? 'takes no arguments' : `takes only ${expected.join(' and ')}`;
  const textFlag = command.flags.find((f) => f.kind === 'string');
  const hint = textFlag
    ? ` Put a value with spaces in quotes: \`--${textFlag.name} "two words"\`.`
    : '';
  return new ParseFailure(
    'extra_argument',
    `\`${commandName(command)}\` ${takes}; \`${extra.text}\` is one too many.${hint}`,
  );
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

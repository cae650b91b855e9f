import type { z } from 'zod';

/**
 * The declarative grammar of a command: its words, arguments and flags. `commands/` declares
 * every command once with these types; the parser, `/help`, the CLI and the Slack and Discord
 * manifests are all generated from them.
 */

/**
 * How many words a positional takes: `one` word; `rest`, every remaining word joined by spaces
 * (a free-text reason); `many`, every remaining word, each validated on its own (`KEY=VALUE...`).
 */
/**
 * A value that names something in the config. Parsing never reads the config; the dispatcher
 * checks these names against it and lists the valid ones when one is unknown.
 */
export type ConfigReference = 'profile' | 'target' | 'drill';

export type PositionalArity = 'one' | 'rest' | 'many';

/**
 * What a chat client can offer while the value is typed (Discord autocomplete): names from the
 * config, recent backup ids, open approval requests, runbook files. A hint only: parsing and
 * checking do not depend on it.
 */
export type SuggestionKind = ConfigReference | 'backup' | 'request' | 'runbook';

export interface PositionalSpec<
  K extends string = string,
  T = unknown,
  R extends boolean = boolean,
  A extends PositionalArity = PositionalArity,
> {
  /** The property the parsed value is stored under: `profile`. */
  readonly key: K;
  /** The name shown in usage lines: `PROFILE`, `ID|latest`. */
  readonly name: string;
  readonly required: R;
  readonly arity: A;
  readonly description: string;
  /** Validates (and may transform) one word; its issue message is shown to the user. */
  readonly schema: z.ZodType<T>;
  readonly refersTo?: ConfigReference;
  /** What to suggest while the value is typed. @defaultValue `refersTo` */
  readonly suggests?: SuggestionKind;
}

export type FlagKind = 'boolean' | 'string' | 'int' | 'list' | 'map';

export interface FlagSpec<N extends string = string, V = unknown> {
  /** The flag without its dashes: `no-replicate`. Parsed into the camel-cased key `noReplicate`. */
  readonly name: N;
  readonly kind: FlagKind;
  /** The placeholder in usage lines: `TEXT`, `N`, `A,B`. Absent for boolean flags. */
  readonly valueName?: string;
  readonly description: string;
  /** Validates a string value, each item of a list, or each value of a map. */
  readonly schema?: z.ZodType;
  /** Bounds of an `int` flag, inclusive. */
  readonly min?: number;
  readonly max?: number;
  /** The value when the flag is absent. */
  readonly defaultValue?: V;
  /** For a map, both its keys and its values name this kind of thing. */
  readonly refersTo?: ConfigReference;
  /** What to suggest while the value is typed. @defaultValue `refersTo` */
  readonly suggests?: SuggestionKind;
}

/** One command of the grammar, without its handler (that lives in `commands/`). */
export interface CommandSpec {
  /** The words that name it: `['backup', 'create']`. */
  readonly path: readonly string[];
  /**
   * The heading `/help` lists it under.
   * @defaultValue the first word of `path`
   */
  readonly group?: string;
  /** One line, shown in `/help` and in platform manifests. */
  readonly summary: string;
  /** A longer explanation shown by `/help COMMAND`. */
  readonly description?: string;
  readonly positionals: readonly PositionalSpec[];
  readonly flags: readonly FlagSpec[];
  /** The action name roles and approval policies are judged on: `restore`, `backup.prune`. */
  readonly action: string;
  /**
   * Whether the command changes something. When the config has `roles`, only role holders may
   * run a gated command; read-only commands stay open to everyone.
   */
  readonly gated: boolean;
  /** Whether the command puts work on the queue (the CLI then waits for it). */
  readonly enqueues: boolean;
  /**
   * False for a command this version parses and lists but does not carry out yet; its handler
   * answers that it is not available, so a runbook step that runs it would always fail.
   * @defaultValue true
   */
  readonly available?: boolean;
  readonly examples?: readonly string[];
}

/** Parsed arguments as the parser hands them over, keyed by positional key and flag key. */
export type ParsedArgs = Readonly<Record<string, unknown>>;

/** `no-replicate` → `noReplicate`. */
export type CamelCase<S extends string> = S extends `${infer H}-${infer T}`
  ? `${H}${Capitalize<CamelCase<T>>}`
  : S;

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

type PositionalValue<P> =
  P extends PositionalSpec<string, infer T, infer R, infer A>
    ? A extends 'many'
      ? T[]
      : R extends true
        ? T
        : T | undefined
    : never;

type FlagValue<F> = F extends FlagSpec<string, infer V> ? V : never;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The typed arguments a handler receives for the given positionals and flags. */
export type ArgsOf<P extends readonly PositionalSpec[], F extends readonly FlagSpec[]> = Simplify<
  { readonly [E in P[number] as E['key']]: PositionalValue<E> } & {
    readonly [E in F[number] as CamelCase<E['name']>]: FlagValue<E>;
  }
>;

interface PositionalOptions<K extends string, T, R extends boolean, A extends PositionalArity> {
  readonly key: K;
  readonly name: string;
  readonly description: string;
  readonly schema: z.ZodType<T>;
  readonly required: R;
  /** @defaultValue `'one'` */
  readonly arity?: A;
  readonly refersTo?: ConfigReference;
  /** What to suggest while the value is typed. @defaultValue `refersTo` */
  readonly suggests?: SuggestionKind;
}

/** Declares a positional argument. */
export function positional<
  const K extends string,
  T,
  const R extends boolean,
  const A extends PositionalArity = 'one',
>(options: PositionalOptions<K, T, R, A>): PositionalSpec<K, T, R, NoInfer<A>> {
  return { arity: 'one' as A, ...options };
}

interface ValueFlagOptions<N extends string> {
  readonly name: N;
  /** The placeholder in usage lines: `TEXT`, `P`, `A,B`. */
  readonly value: string;
  readonly description: string;
  /** Validates the value (each item of a list, each value of a map). */
  readonly schema?: z.ZodType<string>;
  readonly refersTo?: ConfigReference;
  /** What to suggest while the value is typed. @defaultValue `refersTo` */
  readonly suggests?: SuggestionKind;
}

function valueFlag<N extends string, V>(
  kind: FlagKind,
  { value, ...options }: ValueFlagOptions<N>,
): FlagSpec<N, V> {
  return { kind, valueName: value, ...options };
}

/** Declares flags; each returns a spec whose type carries the parsed value's type. */
export const flag = {
  /** `--dry-run`: true when present, false otherwise. */
  boolean<const N extends string>(name: N, description: string): FlagSpec<N, boolean> {
    return { name, kind: 'boolean', description, defaultValue: false };
  },
  /** `--note TEXT` or `--note=TEXT`. */
  string<const N extends string>(options: ValueFlagOptions<N>): FlagSpec<N, string | undefined> {
    return valueFlag('string', options);
  },
  /** `--limit N`: a whole number within bounds, with an optional default. */
  int<const N extends string, const D extends number | undefined = undefined>(options: {
    readonly name: N;
    readonly value: string;
    readonly description: string;
    readonly min: number;
    readonly max: number;
    readonly defaultValue?: D;
  }): FlagSpec<N, D extends number ? number : number | undefined> {
    const { value, ...rest } = options;
    return { kind: 'int', valueName: value, ...rest } as FlagSpec<
      N,
      D extends number ? number : number | undefined
    >;
  },
  /** `--components A,B`: comma-separated, duplicates dropped. */
  list<const N extends string>(options: ValueFlagOptions<N>): FlagSpec<N, string[] | undefined> {
    return valueFlag('list', options);
  },
  /** `--into a=b,c=d`: comma-separated `key=value` pairs, each key once. */
  map<const N extends string>(
    options: ValueFlagOptions<N>,
  ): FlagSpec<N, Record<string, string> | undefined> {
    return valueFlag('map', options);
  },
};

/** `/backup create` */
export function commandName(spec: Pick<CommandSpec, 'path'>): string {
  return `/${spec.path.join(' ')}`;
}

import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { findUrlPasswords, MIN_LITERAL_URL_PASSWORD } from '../core/redact.ts';
import { type ConfigIssue, type ConfigPath, formatIssue, formatPath } from './config-issue.ts';
import { checkCrossReferences } from './cross-references.ts';
import { interpolateEnv } from './interpolate.ts';
import { readConfigFile } from './read-config-file.ts';
import { readYaml } from './read-yaml.ts';
import type { LifeboatConfig } from './schema.ts';
import { checkSharedDestinations } from './shared-destinations.ts';
import { validateConfig } from './validation-issues.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** A validated configuration and what start-up needs to know about it. */
export interface LoadedConfig {
  readonly config: LifeboatConfig;
  /** The file it came from (absolute), or the source name given to `parseConfig`. */
  readonly path: string;
  /**
   * Values to keep out of logs: every value substituted from a variable whose name looks secret
   * (`PASS`, `SECRET`, `TOKEN`, `KEY`, `CREDENTIAL`, `IDENTITY`) and every password inside a URL.
   */
  readonly secrets: string[];
}

export interface LoadConfigOptions {
  /** The file to read; relative paths are taken from `cwd`. @defaultValue `env.LIFEBOAT_CONFIG`, else `lifeboat.yaml` */
  readonly path?: string | undefined;
  /** Where `${VAR}` values come from. @defaultValue `process.env` */
  readonly env?: Env | undefined;
  /** @defaultValue `process.cwd()` */
  readonly cwd?: string | undefined;
}

export interface ParseConfigOptions {
  /**
   * Directory that relative paths in the file (`storage.local.path`, directory targets,
   * `runbooks.path`) are resolved against; without it they are kept as written.
   */
  readonly baseDir?: string | undefined;
}

const EXAMPLE_HINT = 'lifeboat.example.yaml documents every key';

/**
 * Reads and validates the configuration file: `options.path`, else `LIFEBOAT_CONFIG`, else
 * `lifeboat.yaml` in the working directory. Relative paths inside the file are resolved against
 * the file's own directory, so the same file means the same thing whichever directory the bot,
 * a worker or the CLI is started from.
 *
 * @throws ConfigError listing every problem as `path: message` in `issues`.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const [requested, reason] = options.path
    ? [options.path, 'the path given']
    : env.LIFEBOAT_CONFIG
      ? [env.LIFEBOAT_CONFIG, 'LIFEBOAT_CONFIG']
      : ['lifeboat.yaml', 'the default; set LIFEBOAT_CONFIG to use another file'];
  const path = resolve(cwd, requested);

  const file = readConfigFile(path);
  if (!file.ok) {
    if (file.missing) {
      const message = `No configuration file at ${path} (${reason}). Copy lifeboat.example.yaml to start one: ${EXAMPLE_HINT}.`;
      throw new ConfigError(message, [message], { cause: file.cause });
    }
    const issue = file.cause ? `cannot read ${file.problem}` : file.problem;
    throw new ConfigError(`The configuration cannot be used: ${issue}.`, [issue], {
      cause: file.cause,
    });
  }
  return parseConfig(file.text, env, path, { baseDir: dirname(path) });
}

/**
 * Parses, interpolates and validates configuration text without touching the file system.
 * `sourceName` names the text in messages and becomes `LoadedConfig.path`.
 *
 * @throws ConfigError listing every problem as `path: message` in `issues`.
 */
export function parseConfig(
  text: string,
  env: Env,
  sourceName: string,
  options: ParseConfigOptions = {},
): LoadedConfig {
  const read = readYaml(text);
  if (!read.ok) throw invalid(sourceName, read.issues);
  const { offsetOf, value: raw } = read;
  if (raw === null || raw === undefined) {
    throw invalid(sourceName, [
      `the file is empty; it needs at least targets and profiles (${EXAMPLE_HINT})`,
    ]);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalid(sourceName, [
      `the top level must be a mapping of keys such as targets and profiles, not ${Array.isArray(raw) ? 'a list' : 'a single value'}`,
    ]);
  }

  const interpolated = interpolateEnv(raw, env);
  const validation = validateConfig(interpolated.value, interpolated.originAt);
  const schemaIssues = validation.ok ? [] : validation.issues;
  const issues = [
    ...interpolated.issues,
    ...notAt(interpolated.issues, schemaIssues),
    ...notAt(
      [...interpolated.issues, ...schemaIssues],
      checkCrossReferences(interpolated.value, interpolated.originAt),
    ),
  ];
  if (issues.length > 0 || !validation.ok) {
    throw invalid(sourceName, inDocumentOrder(offsetOf, issues).map(formatIssue));
  }

  const config = options.baseDir
    ? withPathsFrom(validation.config, options.baseDir)
    : validation.config;
  // Two names for one destination under different environments: judged on what they resolve to.
  const shared = checkSharedDestinations(config);
  if (shared.length > 0) {
    throw invalid(sourceName, inDocumentOrder(offsetOf, shared).map(formatIssue));
  }
  return {
    config,
    path: sourceName,
    secrets: [
      ...new Set([
        ...interpolated.secrets,
        // URLs are redacted by pattern in every log line; long passwords also literally.
        ...stringsIn(interpolated.value)
          .flatMap(findUrlPasswords)
          .filter((password) => password.length >= MIN_LITERAL_URL_PASSWORD),
      ]),
    ],
  };
}

function invalid(sourceName: string, issues: readonly string[]): ConfigError {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  const list = issues.map((issue) => `  - ${issue}`).join('\n');
  return new ConfigError(
    `The configuration in ${sourceName} has ${count} (${EXAMPLE_HINT}):\n${list}`,
    issues,
  );
}

/** The issues of `later` whose path none of `earlier` already reports: one problem, one line. */
function notAt(earlier: readonly ConfigIssue[], later: readonly ConfigIssue[]): ConfigIssue[] {
  const taken = new Set(earlier.map((issue) => formatPath(issue.path)));
  return later.filter((issue) => !taken.has(formatPath(issue.path)));
}

/** Sorts issues by where their path starts in the file; issues about missing keys go first. */
function inDocumentOrder(
  offsetOf: (path: ConfigPath) => number,
  issues: readonly ConfigIssue[],
): ConfigIssue[] {
  return issues
    .map((issue, order) => ({ issue, order, offset: offsetOf(issue.path) }))
    .sort((a, b) => a.offset - b.offset || a.order - b.order)
    .map(({ issue }) => issue);
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

/** The config with its relative file-system paths resolved against `baseDir`. */
function withPathsFrom(config: LifeboatConfig, baseDir: string): LifeboatConfig {
  const from = (path: string): string => (isAbsolute(path) ? path : resolve(baseDir, path));
  return {
    ...config,
    storage: { ...config.storage, local: { path: from(config.storage.local.path) } },
    targets: Object.fromEntries(
      Object.entries(config.targets).map(([name, target]) => [
        name,
        target.kind === 'directory' ? { ...target, path: from(target.path) } : target,
      ]),
    ),
    runbooks: { path: from(config.runbooks.path) },
  };
}

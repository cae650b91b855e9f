import { checkConfigReferences, configNames } from '../bot/config-references.ts';
import type { LifeboatConfig } from '../config/schema.ts';
import { type CommandSpec, commandName } from '../core/command-grammar.ts';
import { parseCommand } from '../core/parse-command.ts';
import { tokenize } from '../core/tokenize.ts';
import { fillCommand, placeholdersIn } from './fill-command.ts';
import type { Runbook, RunbookFinding, RunbookParam } from './model.ts';

/** What a runbook is judged against: the command grammar and the config it will run with. */
export interface LintContext {
  readonly commands: readonly CommandSpec[];
  readonly config: LifeboatConfig;
}

/**
 * Every problem with a runbook, the parser's findings first: commands that do not parse with the
 * real grammar (filled with each parameter's default, or a stand-in of its type), that this
 * version does not carry out yet, or that name a profile or target the config lacks; unknown
 * roles, `{{param}}`s not declared, parameters never used, steps with nothing in them and step
 * titles given twice. Sorted by line.
 */
export function lintRunbook(runbook: Runbook, context: LintContext): RunbookFinding[] {
  const findings: RunbookFinding[] = [...runbook.findings];
  const { file } = runbook;
  const add = (severity: 'error' | 'warning', line: number, message: string): void => {
    findings.push({ severity, file, line, message });
  };
  const declared = new Map(runbook.params.map((param) => [param.name, param]));
  const values = Object.fromEntries(
    runbook.params.map((param) => [param.name, sampleValue(param, context.config)]),
  );
  const used = new Set<string>();
  const configuredRoles = context.config.roles ? Object.keys(context.config.roles) : undefined;
  const checkRoles = (roles: readonly string[], line: number, what: string): void => {
    if (!configuredRoles) return;
    for (const role of roles) {
      if (!configuredRoles.includes(role)) {
        add(
          'error',
          line,
          `unknown role "${role}" ${what}; roles: ${configuredRoles.join(', ') || 'none are configured'}`,
        );
      }
    }
  };
  checkRoles(runbook.roles, runbook.rolesLine ?? 1, 'in the front matter');
  for (const param of runbook.params) {
    const problem = defaultProblem(param, context.config);
    if (problem) add('error', param.line, problem);
  }

  const titles = new Map<string, number>();
  for (const step of runbook.steps) {
    const key = step.title.toLowerCase();
    const first = titles.get(key);
    if (first !== undefined && step.title !== '') {
      add(
        'warning',
        step.line,
        `the step title "${step.title}" is also the title of line ${first}`,
      );
    } else titles.set(key, step.line);
    if (step.parts.length === 0) {
      add(
        'error',
        step.line,
        `step ${step.number} "${step.title}" is empty: give it text, a checklist, commands or a gate`,
      );
    }
    for (const part of step.parts) {
      if (part.kind === 'text') {
        for (const name of placeholdersIn(part.markdown)) used.add(name);
      } else if (part.kind === 'gate') {
        checkRoles(part.roles, part.line, 'in the approval gate');
      } else if (part.kind === 'command') {
        const names = placeholdersIn(part.text);
        for (const name of names) used.add(name);
        const undeclared = names.filter((name) => !declared.has(name));
        if (undeclared.length > 0) {
          add(
            'error',
            part.line,
            `{{${undeclared.join('}}, {{')}}} ${undeclared.length > 1 ? 'are not declared: add them' : 'is not declared: add it'} to params in the front matter`,
          );
          continue;
        }
        const problem = commandProblem(part.text, values, context);
        if (problem) add('error', part.line, problem);
      }
    }
  }
  for (const name of placeholdersIn(runbook.intro)) used.add(name);
  for (const param of runbook.params) {
    if (!used.has(param.name)) {
      add('warning', param.line, `the parameter "${param.name}" is never used`);
    }
  }
  return findings.sort((a, b) => a.line - b.line);
}

/** Why the command, filled with `values`, would not run; undefined when it would parse. */
function commandProblem(
  template: string,
  values: Readonly<Record<string, string>>,
  { commands, config }: LintContext,
): string | undefined {
  const filled = fillCommand(template, values);
  if (!filled.ok) return filled.error;
  const parsed = parseCommand(filled.text, commands);
  if (!parsed.ok) return `${template}: ${parsed.error.split('\n')[0]}`;
  if (parsed.command.available === false) {
    return `${template}: \`${commandName(parsed.command)}\` is not available yet in this version of Lifeboat`;
  }
  const written = tokenize(template.trim());
  const words = written.ok ? written.tokens.slice(0, parsed.command.path.length) : [];
  const chooser = words.find((word) => placeholdersIn(word.text).length > 0);
  if (chooser) {
    return `${template}: ${chooser.text} would choose the command by its value; write the command out (with the default it reads ${commandName(parsed.command)})`;
  }
  try {
    checkConfigReferences(parsed.command, parsed.args, config);
  } catch (error) {
    return `${template}: ${error instanceof Error ? error.message : String(error)}`;
  }
  return undefined;
}

/** A backup id as `/backup list` shows them: what a backup parameter without a default holds. */
const SAMPLE_BACKUP_ID = 'bk_20261122T020000Z_full_7q3k';

/**
 * What the linter fills a parameter with: its default, else a stand-in of its type (the first
 * configured profile or target, a backup id, the first allowed value, or the parameter's name).
 */
function sampleValue(param: RunbookParam, config: LifeboatConfig): string {
  if (param.default !== undefined) return param.default;
  switch (param.type.kind) {
    case 'profile':
      return config.defaultProfile ?? configNames(config, 'profile')[0] ?? param.name;
    case 'target':
      return configNames(config, 'target')[0] ?? param.name;
    case 'backup':
      return SAMPLE_BACKUP_ID;
    case 'choice':
      return param.type.values[0] ?? param.name;
    case 'string':
      return param.name;
  }
}

/** A default that names a profile or target the config lacks, or a choice it does not allow. */
function defaultProblem(param: RunbookParam, config: LifeboatConfig): string | undefined {
  const { default: value, type } = param;
  if (value === undefined || (type.kind !== 'profile' && type.kind !== 'target')) return undefined;
  const names = configNames(config, type.kind);
  if (names.includes(value)) return undefined;
  return `the default of "${param.name}" is "${value}", which is not a configured ${type.kind}; ${type.kind}s: ${names.join(', ') || 'none are configured'}`;
}

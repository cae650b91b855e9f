import { readYaml } from '../config/read-yaml.ts';
import type { ParamType, RunbookFinding, RunbookParam } from './model.ts';

/** How large a runbook's front matter may be; a real one is a few hundred bytes. */
export const MAX_FRONT_MATTER_CHARS = 64 * 1024;

/** A parameter name as `{{name}}` writes it. */
export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** A role name as the config's `roles` writes it. */
export const ROLE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** What the front matter of a runbook says, with what was wrong in it. */
export interface FrontMatter {
  /** Absent when the front matter gives none. */
  readonly title?: string;
  readonly description: string;
  readonly roles: readonly string[];
  /** The line of `roles:`, when the front matter has one. */
  readonly rolesLine?: number;
  readonly params: readonly RunbookParam[];
  /** Whether there was front matter that could not be read as YAML (its keys are unknown). */
  readonly unreadable: boolean;
  /** 0-based index of the first line after the front matter (0 when there is none). */
  readonly bodyStart: number;
  readonly findings: readonly RunbookFinding[];
}

const KNOWN_KEYS = new Set(['title', 'description', 'params', 'roles']);
const SIMPLE_TYPES = new Set(['string', 'profile', 'backup', 'target']);

/**
 * Reads the `---` YAML block at the top of a runbook (`lines` split from the file): `title`,
 * `description`, `params` and `roles`. Never throws; every problem is a finding at its line.
 */
export function readFrontMatter(lines: readonly string[], file: string): FrontMatter {
  const findings: RunbookFinding[] = [];
  const empty = {
    description: '',
    roles: [],
    params: [],
    unreadable: false,
    bodyStart: 0,
    findings,
  };
  if ((lines[0] ?? '').trimEnd() !== '---') return empty;
  let end = -1;
  let chars = 0;
  for (let i = 1; i < lines.length; i += 1) {
    const line = (lines[i] as string).trimEnd();
    if (line === '---' || line === '...') {
      end = i;
      break;
    }
    chars += (lines[i] as string).length + 1;
    if (chars > MAX_FRONT_MATTER_CHARS) break;
  }
  const error = (line: number, message: string): void => {
    findings.push({ severity: 'error', file, line, message });
  };
  if (end < 0) {
    error(
      1,
      chars > MAX_FRONT_MATTER_CHARS
        ? `the front matter is larger than ${MAX_FRONT_MATTER_CHARS / 1024} KiB; it holds a title, a description, params and roles`
        : 'the front matter that starts here is not closed: end it with a line `---`',
    );
    return { ...empty, unreadable: true };
  }
  const text = lines.slice(1, end).join('\n');
  const bodyStart = end + 1;
  const read = readYaml(text);
  if (!read.ok) {
    for (const issue of read.issues) {
      const at = /^line (\d+), column \d+: /.exec(issue);
      error(at ? Number(at[1]) + 1 : 1, `front matter: ${at ? issue.slice(at[0].length) : issue}`);
    }
    return { ...empty, unreadable: true, bodyStart };
  }
  const lineOf = (path: readonly (string | number)[]): number => {
    const offset = read.offsetOf([...path]);
    if (offset < 0) return 1;
    let line = 2;
    for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line += 1;
    return line;
  };
  const value = read.value ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    error(
      2,
      'front matter: expected keys (title, description, params, roles), not a list or a value',
    );
    return { ...empty, unreadable: true, bodyStart };
  }
  const data = value as Record<string, unknown>;
  for (const key of Object.keys(data)) {
    if (!KNOWN_KEYS.has(key)) {
      findings.push({
        severity: 'warning',
        file,
        line: lineOf([key]),
        message: `front matter: unknown key "${key}" is ignored; the keys are title, description, params, roles`,
      });
    }
  }
  const title = scalarText(data.title);
  if (data.title !== undefined && title === undefined) {
    error(lineOf(['title']), 'front matter: `title` must be text');
  }
  const description = scalarText(data.description);
  if (data.description !== undefined && description === undefined) {
    error(lineOf(['description']), 'front matter: `description` must be text');
  }
  return {
    ...(title?.trim() ? { title: title.trim() } : {}),
    description: description?.trim() ?? '',
    roles: readRoles(data.roles, lineOf(['roles']), error),
    ...(data.roles !== undefined ? { rolesLine: lineOf(['roles']) } : {}),
    params: readParams(data.params, lineOf, error),
    unreadable: false,
    bodyStart,
    findings,
  };
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

type Report = (line: number, message: string) => void;

function readRoles(value: unknown, line: number, error: Report): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(list) || list.some((role) => typeof role !== 'string')) {
    error(line, 'front matter: `roles` must be a list of role names, as in [dba, oncall]');
    return [];
  }
  const roles = (list as string[]).map((role) => role.trim()).filter((role) => role !== '');
  for (const role of roles) {
    if (!ROLE_NAME.test(role)) {
      error(line, `front matter: "${role}" is not a role name (letters, digits, - and _)`);
    }
  }
  return roles.filter((role) => ROLE_NAME.test(role));
}

function readParams(
  value: unknown,
  lineOf: (path: readonly (string | number)[]) => number,
  error: Report,
): RunbookParam[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) {
    error(
      lineOf(['params']),
      'front matter: `params` must map each name to { description, default, type }',
    );
    return [];
  }
  const params: RunbookParam[] = [];
  for (const [name, spec] of Object.entries(value as Record<string, unknown>)) {
    const line = lineOf(['params', name]);
    if (!PARAM_NAME.test(name)) {
      error(
        line,
        `front matter: "${name}" is not a parameter name (a letter or _, then letters, digits, - and _)`,
      );
      continue;
    }
    const fields =
      typeof spec === 'string'
        ? { description: spec }
        : spec !== null && typeof spec === 'object' && !Array.isArray(spec)
          ? (spec as Record<string, unknown>)
          : undefined;
    if (!fields) {
      error(line, `front matter: parameter "${name}" must be { description, default, type }`);
      continue;
    }
    for (const key of Object.keys(fields)) {
      if (!['description', 'default', 'type'].includes(key)) {
        error(
          lineOf(['params', name, key]),
          `front matter: parameter "${name}" has an unknown key "${key}"; it takes description, default, type`,
        );
      }
    }
    const description = scalarText(fields.description) ?? '';
    const fallback = fields.default === null ? undefined : scalarText(fields.default);
    if (fields.default !== undefined && fields.default !== null && fallback === undefined) {
      error(
        lineOf(['params', name, 'default']),
        `front matter: the default of "${name}" must be text`,
      );
    }
    const type = readType(fields.type, name, lineOf(['params', name, 'type']), error);
    if (type.kind === 'choice' && fallback !== undefined && !type.values.includes(fallback)) {
      error(
        lineOf(['params', name, 'default']),
        `front matter: the default of "${name}" ("${fallback}") is not one of its values: ${type.values.join(', ')}`,
      );
    }
    params.push({
      name,
      description,
      ...(fallback !== undefined ? { default: fallback } : {}),
      type,
      line,
    });
  }
  return params;
}

function readType(value: unknown, name: string, line: number, error: Report): ParamType {
  if (value === undefined || value === null) return { kind: 'string' };
  if (typeof value === 'string' && SIMPLE_TYPES.has(value)) {
    return { kind: value as 'string' | 'profile' | 'backup' | 'target' };
  }
  if (Array.isArray(value) && value.length > 0) {
    const values = value.map(scalarText);
    if (values.every((v): v is string => v !== undefined && v !== '')) {
      return { kind: 'choice', values };
    }
  }
  error(
    line,
    `front matter: the type of "${name}" must be string, profile, backup, target or a list of allowed values`,
  );
  return { kind: 'string' };
}

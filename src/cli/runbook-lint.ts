import { stat } from 'node:fs/promises';
import { commands } from '../../commands/index.ts';
import { loadConfig } from '../config/load-config.ts';
import { lintRunbook } from '../runbook/lint-runbook.ts';
import { listRunbooks, readRunbookFile } from '../runbook/load-runbooks.ts';
import type { Runbook, RunbookFinding } from '../runbook/model.ts';
import { type CliOutcome, invalidOutcome, okOutcome } from './cli-outcome.ts';

export interface RunbookLintOptions {
  /** Files or directories (their `*.md` but README.md); none: the config's `runbooks.path`. */
  readonly paths: readonly string[];
  readonly configPath?: string | undefined;
  readonly json: boolean;
  /** Where the `file:line: …` lines go. */
  readonly out: NodeJS.WritableStream;
}

/**
 * `lifeboat runbook lint [PATH…]`: every runbook checked against the grammar and the config,
 * each finding printed as `file:line: error: message` (or `warning:`). Exit 2 when any finding
 * is an error (bad input, like an invalid config), else 0; `--json` adds the findings.
 */
export async function lintRunbooks(options: RunbookLintOptions): Promise<CliOutcome> {
  const { config } = loadConfig({ path: options.configPath, env: process.env });
  const paths = options.paths.length > 0 ? options.paths : [config.runbooks.path];
  const runbooks: Runbook[] = [];
  const findings: RunbookFinding[] = [];
  for (const path of paths) {
    const kind = await stat(path).then(
      (s) => (s.isDirectory() ? 'directory' : 'file'),
      () => 'missing' as const,
    );
    if (kind === 'missing') {
      findings.push({
        severity: 'error',
        file: path,
        line: 1,
        message: 'no such file or directory',
      });
    } else if (kind === 'directory') {
      try {
        runbooks.push(...(await listRunbooks(path)));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        findings.push({
          severity: 'error',
          file: path,
          line: 1,
          message: `cannot list the directory: ${code}`,
        });
      }
    } else {
      runbooks.push(await readRunbookFile(path));
    }
  }
  for (const runbook of runbooks) findings.push(...lintRunbook(runbook, { commands, config }));
  for (const f of findings) options.out.write(`${f.file}:${f.line}: ${f.severity}: ${f.message}\n`);
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  const summary = `${runbooks.length} ${runbooks.length === 1 ? 'runbook' : 'runbooks'} checked: ${errors} ${errors === 1 ? 'error' : 'errors'}, ${warnings} ${warnings === 1 ? 'warning' : 'warnings'}`;
  (options.json ? options.out : process.stderr).write(`${summary}\n`);
  const fields = { runbooks: runbooks.map((r) => r.name), errors, warnings, findings };
  if (errors === 0) return okOutcome(fields);
  const outcome = invalidOutcome(summary);
  return { ...outcome, result: { ...outcome.result, ...fields } };
}

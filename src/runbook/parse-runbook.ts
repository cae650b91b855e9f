import type { Runbook } from './model.ts';

/**
 * Reads one runbook's markdown (SPEC §6). Never throws: every problem is a finding with its
 * line, and what the engine cannot act on is kept as text.
 * PLACEHOLDER — the parser lands with issue 12's language work; until then every runbook
 * reads as having no steps and one error finding.
 */
export function parseRunbook(markdown: string, file: string): Runbook {
  void markdown;
  const name = file.replace(/^.*\//, '').replace(/\.md$/, '');
  return {
    name,
    file,
    title: name,
    description: '',
    roles: [],
    params: [],
    intro: '',
    steps: [],
    findings: [{ severity: 'error', file, line: 1, message: 'runbook parser not built yet' }],
  };
}

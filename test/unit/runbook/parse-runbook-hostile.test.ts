import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Runbook } from '../../../src/runbook/model.ts';
import { parseRunbook } from '../../../src/runbook/parse-runbook.ts';

/** Pieces runbooks are made of, so random text often forms real constructs (and broken ones). */
const PIECES = [
  '---',
  '...',
  'title: T',
  'params: { a: { default: x } }',
  'params: [1, 2]',
  'roles: *x',
  '&x [',
  '## ',
  '# ',
  '### ',
  '- [ ] ',
  '- [x] ',
  '1. ',
  '  ',
  '> ',
  '> [!APPROVAL] ',
  '> [!WAIT] ',
  '> [!NOTE]',
  '> [!CAUTION] ',
  '```chatops',
  '```',
  '~~~',
  '/restore {{backup}} --into a=b',
  '{{',
  '}}',
  '| a | b |',
  '|---|---|',
  '<div>',
  '<!--',
  '\r',
  '\r\n',
  '\n',
  '\0',
  '\uFEFF',
  '\uE000slack:U1\uE001',
  '\u202E',
  '😀',
];

const hostileMarkdown = fc
  .array(fc.oneof(fc.constantFrom(...PIECES), fc.string(), fc.string({ unit: 'grapheme' })), {
    maxLength: 60,
  })
  .map((pieces) => pieces.join(''));

/** Every finding points into the file: a line from 1 to the number of lines. */
function expectValidFindings(runbook: Runbook, markdown: string): void {
  const lines = markdown.split(/\r\n|\r|\n/).length;
  for (const finding of runbook.findings) {
    expect(finding.file).toBe('x.md');
    expect(Number.isInteger(finding.line)).toBe(true);
    expect(finding.line).toBeGreaterThanOrEqual(1);
    expect(finding.line).toBeLessThanOrEqual(lines);
    expect(['error', 'warning']).toContain(finding.severity);
    expect(finding.message).not.toBe('');
  }
  for (const step of runbook.steps) {
    expect(step.line).toBeGreaterThanOrEqual(1);
    expect(step.line).toBeLessThanOrEqual(lines);
    for (const part of step.parts) {
      expect(part.line).toBeGreaterThanOrEqual(1);
      expect(part.line).toBeLessThanOrEqual(lines);
    }
  }
}

describe('parseRunbook on hostile input', () => {
  it('never throws on arbitrary markdown and unicode, and every finding has a valid line', () => {
    fc.assert(
      fc.property(hostileMarkdown, (markdown) => {
        const runbook = parseRunbook(markdown, 'x.md');
        expectValidFindings(runbook, markdown);
        expect(runbook.name).toBe('x');
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary front matter', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ unit: 'grapheme' }), (yaml, body) => {
        const markdown = `---\n${yaml}\n---\n## Step\n${body}`;
        const runbook = parseRunbook(markdown, 'x.md');
        expectValidFindings(runbook, markdown);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every command line of a chatops block it accepts, and never runs one it did not', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 8 }), (lines) => {
        const body = lines.map((line) => line.replace(/`/g, '')).join('\n');
        const markdown = `---\ntitle: T\n---\n## Step\n\`\`\`chatops\n${body}\n\`\`\`\n`;
        const runbook = parseRunbook(markdown, 'x.md');
        const commands = runbook.steps.flatMap((s) => s.parts.filter((p) => p.kind === 'command'));
        for (const command of commands) expect(command.text.startsWith('/')).toBe(true);
        expectValidFindings(runbook, markdown);
      }),
      { numRuns: 300 },
    );
  });

  it('answers deeply nested quotes and lists with a runbook, not a stack overflow', () => {
    const deep = `---\ntitle: T\n---\n## Step\n${'> '.repeat(5000)}x\n${'- '.repeat(5000)}y\n${'['.repeat(5000)}`;
    const runbook = parseRunbook(deep, 'x.md');
    expect(runbook.steps).toHaveLength(1);
    expectValidFindings(runbook, deep);
  });
});

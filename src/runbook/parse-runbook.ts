import MarkdownIt from 'markdown-it';
import { isDuration, parseDuration } from '../core/duration.ts';
import { ROLE_NAME, readFrontMatter } from './front-matter.ts';
import type { Runbook, RunbookFinding, RunbookStep, StepPart } from './model.ts';

/** How large a runbook may be; the longest real one is a few dozen kilobytes. */
export const MAX_RUNBOOK_CHARS = 1024 * 1024;

/** How many findings one runbook reports; past it, one more says how many were left out. */
export const MAX_FINDINGS = 200;

/** The most approvers a gate may ask for. */
export const MAX_GATE_APPROVALS = 10;

const markdown = new MarkdownIt('default', { html: true });

type Token = ReturnType<typeof markdown.parse>[number];

const ALERT = /^\[!([A-Za-z]+)\][ \t]*(.*)$/;
const TASK = /^\[([ xX])\][ \t]+/;
const CALLOUT_TONES = {
  NOTE: 'info',
  TIP: 'info',
  WARNING: 'warning',
  IMPORTANT: 'warning',
  CAUTION: 'danger',
} as const;

/** The file name without directories and `.md`: what `/runbook start NAME` takes. */
export function runbookName(file: string): string {
  return file.replace(/^.*[\\/]/, '').replace(/\.md$/i, '');
}

/**
 * Reads one runbook's markdown (SPEC §6). Never throws: every problem is a finding with its
 * line, and what the engine cannot act on is kept as text.
 */
export function parseRunbook(markdownText: string, file: string): Runbook {
  const name = runbookName(file);
  const base = { name, file, description: '', roles: [], params: [], intro: '', steps: [] };
  if (markdownText.length > MAX_RUNBOOK_CHARS) {
    return {
      ...base,
      title: name,
      findings: [
        {
          severity: 'error',
          file,
          line: 1,
          message: `the runbook is larger than ${MAX_RUNBOOK_CHARS / 1024 / 1024} MiB; split it into several`,
        },
      ],
    };
  }
  // markdown-it reads \r\n and \r as line ends, and NUL as U+FFFD: the lines here match its map.
  const lines = markdownText.replace(/\r\n?/g, '\n').replace(/\0/g, '\uFFFD').split('\n');
  const front = readFrontMatter(lines, file);
  const findings: RunbookFinding[] = [...front.findings];
  // Blank lines in place of the front matter keep markdown-it's line numbers those of the file.
  const body = [...lines.slice(0, front.bodyStart).map(() => ''), ...lines.slice(front.bodyStart)];
  const builder = new StepBuilder(body, file, findings);
  let tokens: Token[] = [];
  try {
    tokens = markdown.parse(body.join('\n'), {});
  } catch (error) {
    findings.push({
      severity: 'error',
      file,
      line: 1,
      message: `the markdown cannot be read: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
  for (let i = 0; i < tokens.length; ) i = builder.take(tokens, i);
  const { intro, steps, firstHeading } = builder.finish();
  let title = front.title;
  if (title === undefined && !front.unreadable) {
    findings.push({
      severity: 'error',
      file,
      line: 1,
      message:
        'missing title: start the file with front matter holding one (---, title: Restore the database, ---)',
    });
  }
  title ??= firstHeading ?? name;
  if (steps.length === 0 && findings.every((f) => f.severity !== 'error')) {
    findings.push({
      severity: 'error',
      file,
      line: Math.max(1, front.bodyStart),
      message: 'the runbook has no steps: each `## heading` starts one',
    });
  }
  return {
    ...base,
    title,
    description: front.description,
    roles: front.roles,
    ...(front.rolesLine !== undefined ? { rolesLine: front.rolesLine } : {}),
    params: front.params,
    intro,
    steps,
    findings: capped(
      findings.sort((a, b) => a.line - b.line),
      file,
    ),
  };
}

interface OpenStep {
  readonly title: string;
  readonly line: number;
  readonly parts: StepPart[];
  /** 0-based line after the last text part, to join adjacent text with what lay between. */
  textEnd: number;
}

/** Walks markdown-it's top-level blocks, turning each into step parts. */
class StepBuilder {
  private readonly lines: readonly string[];
  private readonly file: string;
  private readonly findings: RunbookFinding[];
  private readonly steps: OpenStep[] = [];
  private introStart = -1;
  private introEnd = -1;
  private firstHeading: string | undefined;

  constructor(lines: readonly string[], file: string, findings: RunbookFinding[]) {
    this.lines = lines;
    this.file = file;
    this.findings = findings;
  }

  /** Takes the block that starts at `tokens[i]`; returns the index after it. */
  take(tokens: readonly Token[], i: number): number {
    const token = tokens[i] as Token;
    const end = closing(tokens, i);
    const map = token.map ?? blockMap(tokens, i, end);
    if (!map) return end + 1;
    const [from, to] = map;
    if (token.type === 'heading_open' && token.tag === 'h2') {
      const title = (tokens[i + 1]?.content ?? '').trim();
      if (title === '') this.finding('error', from, 'a step heading (##) without a title');
      this.steps.push({ title, line: from + 1, parts: [], textEnd: -1 });
      return end + 1;
    }
    const step = this.steps[this.steps.length - 1];
    this.unrunChatops(tokens, i, end, step !== undefined);
    if (!step) {
      if (token.type === 'heading_open' && token.tag === 'h1' && this.firstHeading === undefined) {
        this.firstHeading = (tokens[i + 1]?.content ?? '').trim();
      }
      if (this.introStart < 0) this.introStart = from;
      this.introEnd = to;
      return end + 1;
    }
    if (token.type === 'fence') this.fence(step, token, from, to);
    else if (token.type === 'code_block') {
      step.parts.push({ kind: 'code', language: '', text: token.content, line: from + 1 });
    } else if (token.type === 'bullet_list_open' || token.type === 'ordered_list_open') {
      this.list(step, tokens, i, end);
    } else if (token.type === 'blockquote_open') this.quote(step, from, to);
    else this.text(step, from, to);
    return end + 1;
  }

  finish(): { intro: string; steps: RunbookStep[]; firstHeading: string | undefined } {
    const intro =
      this.introStart < 0 ? '' : this.lines.slice(this.introStart, this.introEnd).join('\n').trim();
    return {
      intro,
      firstHeading: this.firstHeading,
      steps: this.steps.map((step, index) => ({
        number: index + 1,
        title: step.title,
        line: step.line,
        parts: step.parts,
      })),
    };
  }

  /**
   * Warns of chatops blocks the engine will not run: before the first step, or inside a list or
   * a quote (only a block of its own in a step is run). They are still shown.
   */
  private unrunChatops(tokens: readonly Token[], from: number, to: number, inStep: boolean): void {
    for (let j = from; j <= to; j += 1) {
      const token = tokens[j] as Token;
      if (token.type !== 'fence' || !token.map) continue;
      if ((token.info.trim().split(/\s+/)[0] ?? '').toLowerCase() !== 'chatops') continue;
      if (inStep && token.level === 0) continue;
      this.finding(
        'warning',
        token.map[0],
        inStep
          ? 'this chatops block is inside a list or a quote, so it is shown but not run: give it a line of its own'
          : 'this chatops block comes before the first step (## heading), so it is shown but not run',
      );
    }
  }

  private finding(severity: 'error' | 'warning', index: number, message: string): void {
    this.findings.push({ severity, file: this.file, line: index + 1, message });
  }

  /** Lines `from`..`to` as a text part, joined to the text part just before it if any. */
  private text(step: OpenStep, from: number, to: number): void {
    const last = step.parts[step.parts.length - 1];
    if (last?.kind === 'text' && step.textEnd >= 0) {
      const markdown = this.lines
        .slice(last.line - 1, to)
        .join('\n')
        .trimEnd();
      step.parts[step.parts.length - 1] = { ...last, markdown };
    } else {
      const markdown = this.lines.slice(from, to).join('\n').trimEnd();
      if (markdown.trim() === '') return;
      step.parts.push({ kind: 'text', markdown, line: from + 1 });
    }
    step.textEnd = to;
  }

  private push(step: OpenStep, part: StepPart): void {
    step.parts.push(part);
    step.textEnd = -1;
  }

  private fence(step: OpenStep, token: Token, from: number, to: number): void {
    const language = token.info.trim().split(/\s+/)[0] ?? '';
    if (language.toLowerCase() !== 'chatops') {
      this.push(step, { kind: 'code', language, text: token.content, line: from + 1 });
      return;
    }
    const content = token.content.split('\n');
    let commands = 0;
    content.forEach((raw, offset) => {
      const index = from + 1 + offset;
      const text = raw.trim();
      if (text === '' || text.startsWith('#') || index >= to) return;
      if (!text.startsWith('/')) {
        this.finding(
          'error',
          index,
          `"${clip(text)}" in a chatops block is not a command: each line is a command starting with / (or a # comment)`,
        );
        this.text(step, index, index + 1);
        return;
      }
      commands += 1;
      this.push(step, { kind: 'command', text, line: index + 1 });
    });
    if (commands === 0) this.finding('warning', from, 'this chatops block holds no commands');
  }

  /** A list: `- [ ]` items become checks; other items stay text. */
  private list(step: OpenStep, tokens: readonly Token[], open: number, close: number): void {
    const depth = (tokens[open] as Token).level + 1;
    for (let i = open + 1; i < close; i += 1) {
      const item = tokens[i] as Token;
      if (item.type !== 'list_item_open' || item.level !== depth || !item.map) continue;
      const itemEnd = closing(tokens, i);
      const [from, to] = item.map;
      const paragraph = tokens[i + 1];
      const inline = tokens[i + 2];
      const task =
        paragraph?.type === 'paragraph_open' && inline?.type === 'inline'
          ? TASK.exec(inline.content)
          : null;
      if (!task || !inline || !paragraph?.map) {
        this.text(step, from, to);
      } else {
        const text = inline.content
          .slice(task[0].length)
          .replace(/\s*\n\s*/g, ' ')
          .trim();
        this.push(step, { kind: 'check', text, line: from + 1 });
        const rest = paragraph.map[1];
        if (this.lines.slice(rest, to).some((line) => line.trim() !== '')) {
          this.text(step, rest, to);
        }
      }
      i = itemEnd;
    }
  }

  /** A blockquote: an alert (`> [!APPROVAL] …`, `> [!WAIT] …`, `> [!NOTE]`…) or text. */
  private quote(step: OpenStep, from: number, to: number): void {
    const inner = this.lines.slice(from, to).map((line) => line.replace(/^\s{0,3}>[ \t]?/, ''));
    const alert = ALERT.exec((inner[0] ?? '').trim());
    if (!alert) {
      this.text(step, from, to);
      return;
    }
    const kind = (alert[1] as string).toUpperCase();
    const head = (alert[2] ?? '').trim();
    const note = inner.slice(1).join('\n').trim();
    const line = from + 1;
    if (kind === 'APPROVAL') {
      const gate = /^(\S+)\s+from\s+(.+)$/i.exec(head);
      const count = gate ? Number(gate[1]) : Number.NaN;
      const roles = (gate?.[2] ?? '').split(',').map((role) => role.trim());
      const problem = !gate
        ? 'it must read `> [!APPROVAL] N from ROLE[, ROLE]`, as in `> [!APPROVAL] 1 from dba`'
        : !/^\d+$/.test(gate[1] as string) || count < 1 || count > MAX_GATE_APPROVALS
          ? `"${clip(gate[1] as string)}" approvers: N must be a whole number from 1 to ${MAX_GATE_APPROVALS}`
          : roles.some((role) => !ROLE_NAME.test(role))
            ? `"${clip(gate[2] as string)}" is not a list of roles: name them separated by commas, as in dba, oncall`
            : undefined;
      if (problem) {
        this.finding('error', from, `malformed approval gate: ${problem}`);
        this.text(step, from, to);
        return;
      }
      this.push(step, { kind: 'gate', approvals: count, roles, note, line });
      return;
    }
    if (kind === 'WAIT') {
      const duration = head.split(/\s+/)[0] ?? '';
      if (!isDuration(duration)) {
        this.finding(
          'error',
          from,
          `malformed wait: "${clip(head)}" is not a duration; write a number and s, m, h or d, as in \`> [!WAIT] 10m\``,
        );
        this.text(step, from, to);
        return;
      }
      const text = [head.slice(duration.length).trim(), note].filter(Boolean).join('\n');
      this.push(step, { kind: 'wait', ms: parseDuration(duration), text, line });
      return;
    }
    const tone = CALLOUT_TONES[kind as keyof typeof CALLOUT_TONES];
    if (!tone) {
      this.finding(
        'warning',
        from,
        `[!${clip(kind)}] is not an alert Lifeboat knows (APPROVAL, WAIT, NOTE, TIP, WARNING, IMPORTANT, CAUTION); it is shown as a quote`,
      );
      this.text(step, from, to);
      return;
    }
    const text = [head, note].filter(Boolean).join('\n');
    this.push(step, { kind: 'callout', tone, text, line });
  }
}

/** The index of the token closing the block opened at `i` (or `i` for a self-contained one). */
function closing(tokens: readonly Token[], i: number): number {
  const open = tokens[i] as Token;
  if (open.nesting !== 1) return i;
  let depth = 0;
  for (let j = i; j < tokens.length; j += 1) {
    depth += (tokens[j] as Token).nesting;
    if (depth === 0) return j;
  }
  return tokens.length - 1;
}

/** The lines a block covers when its opening token has no map (it always has, in practice). */
function blockMap(tokens: readonly Token[], from: number, to: number): [number, number] | null {
  for (let j = from; j <= to; j += 1) {
    const map = tokens[j]?.map;
    if (map) return [map[0], map[1]];
  }
  return null;
}

function capped(findings: RunbookFinding[], file: string): RunbookFinding[] {
  if (findings.length <= MAX_FINDINGS) return findings;
  const kept = findings.slice(0, MAX_FINDINGS);
  const rest = findings.slice(MAX_FINDINGS);
  return [
    ...kept,
    {
      severity: rest.some((f) => f.severity === 'error') ? 'error' : 'warning',
      file,
      line: (rest[0] as RunbookFinding).line,
      message: `${rest.length} more findings from here on are left out; fix the ones above first`,
    },
  ];
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

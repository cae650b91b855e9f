/**
 * A runbook as the parser reads it (`runbooks/*.md`, SPEC §6): front matter, an intro and one
 * step per `##` heading. Pure data: the parser builds it, the linter judges it, the run engine
 * walks it. Line numbers are 1-based lines of the markdown file.
 */

/** What a parameter may hold; `profile`, `backup` and `target` are checked against the config. */
export type ParamType =
  | { readonly kind: 'string' }
  | { readonly kind: 'profile' }
  | { readonly kind: 'backup' }
  | { readonly kind: 'target' }
  | { readonly kind: 'choice'; readonly values: readonly string[] };

export interface RunbookParam {
  readonly name: string;
  readonly description: string;
  /** Absent: the parameter is required. */
  readonly default?: string;
  readonly type: ParamType;
  readonly line: number;
}

/** A piece of a step, in the order written. */
export type StepPart =
  /** Prose as written (paragraphs, tables, lists that are not checklists, HTML, images): shown. */
  | { readonly kind: 'text'; readonly markdown: string; readonly line: number }
  /** `- [ ] item`: must be ticked before Done. */
  | { readonly kind: 'check'; readonly text: string; readonly line: number }
  /** One command of a ```` ```chatops ```` block, as written (`{{param}}` not yet filled). */
  | { readonly kind: 'command'; readonly text: string; readonly line: number }
  /** `> [!APPROVAL] N from ROLE[, ROLE]`: N approvers besides the starter, from these roles. */
  | {
      readonly kind: 'gate';
      readonly approvals: number;
      readonly roles: readonly string[];
      readonly note: string;
      readonly line: number;
    }
  /** `> [!WAIT] 10m`: the run continues by itself after this long. */
  | { readonly kind: 'wait'; readonly ms: number; readonly text: string; readonly line: number }
  /** `> [!NOTE]`, `> [!WARNING]` (and GitHub's TIP, IMPORTANT, CAUTION): a callout. */
  | {
      readonly kind: 'callout';
      readonly tone: 'info' | 'warning' | 'danger';
      readonly text: string;
      readonly line: number;
    }
  /** Any other fenced code block: shown as code, never run. */
  | {
      readonly kind: 'code';
      readonly language: string;
      readonly text: string;
      readonly line: number;
    };

export interface RunbookStep {
  /** 1-based position. */
  readonly number: number;
  readonly title: string;
  readonly line: number;
  readonly parts: readonly StepPart[];
}

export type FindingSeverity = 'error' | 'warning';

/** A problem the parser or the linter found, with where it is. Never an exception. */
export interface RunbookFinding {
  readonly severity: FindingSeverity;
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

export interface Runbook {
  /** The file name without `.md`: what `/runbook start NAME` takes. */
  readonly name: string;
  readonly file: string;
  readonly title: string;
  readonly description: string;
  /** Who may start it (role names); empty: whoever may run `/runbook start`. */
  readonly roles: readonly string[];
  /** The line of `roles:` in the front matter, when it has one. */
  readonly rolesLine?: number;
  readonly params: readonly RunbookParam[];
  /** The markdown before the first step, shown when the run starts. */
  readonly intro: string;
  readonly steps: readonly RunbookStep[];
  /** What the parser found; a runbook with an `error` finding cannot be started. */
  readonly findings: readonly RunbookFinding[];
}

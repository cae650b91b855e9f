import type { Runbook } from './model.ts';

/**
 * Every `*.md` runbook in `directory` (not README.md), parsed, sorted by name.
 * PLACEHOLDER — lands with issue 12's language work.
 */
export async function listRunbooks(directory: string): Promise<Runbook[]> {
  void directory;
  return [];
}

/** The runbook `name` (`runbooks/NAME.md`), or undefined when there is none. */
export async function loadRunbook(directory: string, name: string): Promise<Runbook | undefined> {
  void directory;
  void name;
  return undefined;
}

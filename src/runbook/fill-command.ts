/** A chatops command with its `{{param}}`s filled, or why it cannot be. */
export type FillResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly error: string };

/**
 * Fills `{{param}}` in one chatops command from `values`. A value fills exactly one argument:
 * spaces, quotes, newlines or a leading `--` in it can never add a flag, a command or a target.
 * PLACEHOLDER — lands with issue 12's language work.
 */
export function fillCommand(
  template: string,
  values: Readonly<Record<string, string>>,
): FillResult {
  void values;
  return { ok: false, error: `cannot fill ${template}: not built yet` };
}

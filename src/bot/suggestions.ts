import { readdir } from 'node:fs/promises';
import type { BackupCatalogView } from '../app/services.ts';
import type { SuggestionKind } from '../core/command-grammar.ts';
import { configNames } from './config-references.ts';

/** The most suggestions a chat client shows (Discord: 25 choices). */
export const MAX_SUGGESTIONS = 25;

/** How many recent backups are offered while a backup id is typed. */
const RECENT_BACKUPS = 100;

/** Values to offer while `kind` is typed, those starting with `typed` first. */
export type SuggestionSource = (kind: SuggestionKind, typed: string) => Promise<readonly string[]>;

export interface SuggestionSourceOptions {
  readonly config: {
    readonly profiles: Readonly<Record<string, unknown>>;
    readonly targets: Readonly<Record<string, unknown>>;
    readonly drills: Readonly<Record<string, unknown>>;
    readonly runbooks: { readonly path: string };
  };
  readonly backups: Pick<BackupCatalogView, 'list'>;
  /** The open approval requests (pending approvals and reviews). */
  readonly openRequests: () => Promise<readonly { readonly id: string }[]>;
}

/**
 * What to offer while a value is typed (Discord autocomplete): profile, target and drill names
 * from the config, recent backup ids (and `latest`) from the catalog, open approval requests,
 * and runbook names from the Markdown files under `runbooks.path`. Names that start with what
 * was typed come first, then names that contain it; at most `MAX_SUGGESTIONS`. A source that
 * cannot be read offers nothing rather than failing the typing.
 */
export function suggestionSource(options: SuggestionSourceOptions): SuggestionSource {
  const { config } = options;
  const candidates = async (kind: SuggestionKind): Promise<readonly string[]> => {
    switch (kind) {
      case 'profile':
      case 'target':
      case 'drill':
        return configNames(config, kind);
      case 'backup': {
        const recent = await options.backups.list({ limit: RECENT_BACKUPS });
        return ['latest', ...recent.filter((b) => b.status === 'completed').map((b) => b.id)];
      }
      case 'request':
        return (await options.openRequests()).map((r) => r.id);
      case 'runbook':
        return runbookNames(config.runbooks.path);
    }
  };
  return async (kind, typed) => {
    const all = await candidates(kind).catch(() => [] as readonly string[]);
    return matching(all, typed);
  };
}

/** `names` that start with `typed`, then those that contain it (case-insensitive), each once. */
export function matching(names: readonly string[], typed: string): string[] {
  const needle = typed.trim().toLowerCase();
  const unique = [...new Set(names)];
  const starts = unique.filter((n) => n.toLowerCase().startsWith(needle));
  const contains = unique.filter((n) => !starts.includes(n) && n.toLowerCase().includes(needle));
  return [...starts, ...contains].slice(0, MAX_SUGGESTIONS);
}

async function runbookNames(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .map((e) => e.name.slice(0, -'.md'.length))
    .sort();
}

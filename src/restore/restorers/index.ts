import type { ManifestComponent } from '../../backup/manifest.ts';
import type { ComponentRestorer } from '../component-restorer.ts';
import { DirectoryRestorer } from './directory-restorer.ts';
import { PostgresRestorer, type PostgresRestorerOptions } from './postgres-restorer.ts';
import { RedisRestorer } from './redis-restorer.ts';

/** What the production restorers may be told. */
export interface RestorerSettings {
  /** The catalog's URL: never restored over (see {@link PostgresRestorerOptions.catalogUrl}). */
  readonly catalogUrl?: string;
}

/** The restorer of a component kind, with its production settings. */
export function restorerFor(
  kind: ManifestComponent['kind'],
  settings: RestorerSettings = {},
): ComponentRestorer {
  switch (kind) {
    case 'postgres': {
      const options: PostgresRestorerOptions =
        settings.catalogUrl === undefined ? {} : { catalogUrl: settings.catalogUrl };
      return new PostgresRestorer(options);
    }
    case 'directory':
      return new DirectoryRestorer();
    case 'redis':
      return new RedisRestorer();
  }
}

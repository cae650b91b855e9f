import type { ManifestComponent } from '../../backup/manifest.ts';
import type { ComponentRestorer } from '../component-restorer.ts';
import { DirectoryRestorer } from './directory-restorer.ts';
import { PostgresRestorer } from './postgres-restorer.ts';
import { RedisRestorer } from './redis-restorer.ts';

/** The restorer of a component kind, with its production settings. */
export function restorerFor(kind: ManifestComponent['kind']): ComponentRestorer {
  switch (kind) {
    case 'postgres':
      return new PostgresRestorer();
    case 'directory':
      return new DirectoryRestorer();
    case 'redis':
      return new RedisRestorer();
  }
}

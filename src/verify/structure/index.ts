import type { ManifestComponent } from '../../backup/manifest.ts';
import { checkPostgresArchive } from './postgres-archive-check.ts';
import { checkRdbSnapshot } from './rdb-snapshot-check.ts';
import type { StructureChecker } from './structure-check.ts';
import { checkTarArchive } from './tar-archive-check.ts';

export type { StructureCheck, StructureChecker, StructureCheckInput } from './structure-check.ts';

/** The structure check of a component kind (level 2). */
export function structureCheckerFor(kind: ManifestComponent['kind']): StructureChecker {
  switch (kind) {
    case 'postgres':
      return checkPostgresArchive;
    case 'directory':
      return checkTarArchive;
    case 'redis':
      return checkRdbSnapshot;
  }
}

import type { TargetConfig } from '../../config/schema.ts';
import type { BackupSource } from './backup-source.ts';
import { DirectorySource } from './directory-source.ts';
import { PostgresSource } from './postgres-source.ts';
import { RedisSource } from './redis-source.ts';

/** The backup source for one configured target; `name` is the target's name in the config. */
export function createSource(name: string, config: TargetConfig): BackupSource {
  switch (config.kind) {
    case 'postgres':
      return new PostgresSource(name, config);
    case 'directory':
      return new DirectorySource(config);
    case 'redis':
      return new RedisSource(name, config);
  }
}

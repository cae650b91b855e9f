import type { ComponentWarning, Manifest, ManifestComponent } from './manifest.ts';

/** A warning with the component it is about. */
export interface BackupWarning extends ComponentWarning {
  readonly component: string;
}

/**
 * Every warning of a component: its own, and for a manifest before 0.4 the directory's tar
 * warnings, which were files that vanished or changed (so: incomplete).
 */
export function warningsOf(component: ManifestComponent): ComponentWarning[] {
  const legacy = component.source.kind === 'directory' ? (component.source.warnings ?? []) : [];
  return [
    ...legacy.map((message): ComponentWarning => ({ kind: 'incomplete', message })),
    ...(component.warnings ?? []),
  ];
}

/** Every warning of a backup, component by component, `incomplete` ones first. */
export function backupWarnings(manifest: Pick<Manifest, 'components'> | null): BackupWarning[] {
  const all = (manifest?.components ?? []).flatMap((component) =>
    warningsOf(component).map((warning) => ({ ...warning, component: component.name })),
  );
  return [
    ...all.filter((w) => w.kind === 'incomplete'),
    ...all.filter((w) => w.kind !== 'incomplete'),
  ];
}

/** True when something a target held is not in the backup (see `componentWarningSchema`). */
export function isIncomplete(manifest: Pick<Manifest, 'components'> | null): boolean {
  return backupWarnings(manifest).some((w) => w.kind === 'incomplete');
}

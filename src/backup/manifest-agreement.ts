import { isDeepStrictEqual } from 'node:util';
import type { Manifest, ManifestComponent } from './manifest.ts';

/** The fields of a component whose every byte a reader relies on, in the order they are named. */
const COMPARED: readonly (keyof ManifestComponent)[] = [
  'kind',
  'object',
  'bytes',
  'rawBytes',
  'sha256',
  'compression',
  'encryption',
  'source',
];

/**
 * Where the manifest in the store and the catalog's copy of it differ, one line each for
 * people (`component app-db: sha256 9f… in the store, 3c… in the catalog`); empty when they
 * agree on everything a restore or verification relies on: the id, the set of components and,
 * for each, its object, sizes, sha256, compression, encryption and source metadata (row counts).
 */
export function manifestDisagreements(stored: Manifest, catalogued: Manifest): string[] {
  const out: string[] = [];
  if (stored.id !== catalogued.id) {
    out.push(`it describes backup ${stored.id}, the catalog's copy ${catalogued.id}`);
  }
  const inCatalog = new Map(catalogued.components.map((c) => [c.name, c]));
  const inStore = new Set(stored.components.map((c) => c.name));
  for (const component of stored.components) {
    const other = inCatalog.get(component.name);
    if (!other) {
      out.push(`component ${component.name} is in the store's manifest only`);
      continue;
    }
    for (const field of COMPARED) {
      if (!isDeepStrictEqual(component[field], other[field])) {
        out.push(
          `component ${component.name}: ${field} ${show(component[field])} in the store, ${show(other[field])} in the catalog`,
        );
      }
    }
  }
  for (const name of inCatalog.keys()) {
    if (!inStore.has(name)) out.push(`component ${name} is in the catalog's copy only`);
  }
  return out;
}

function show(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value === null) return 'none';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

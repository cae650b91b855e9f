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
 * people, naming the field (nested fields by their path) and both values
 * (`component app-db: sha256 9f… in the store, 3c… in the catalog`,
 * `component app-db: source.tables[public.users].rows 11 in the store, 10 in the catalog`); empty when they
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
      for (const [path, inStore, inCatalogValue] of differences(
        field,
        component[field],
        other[field],
      )) {
        out.push(
          `component ${component.name}: ${path} ${show(inStore)} in the store, ${show(inCatalogValue)} in the catalog`,
        );
      }
    }
  }
  for (const name of inCatalog.keys()) {
    if (!inStore.has(name)) out.push(`component ${name} is in the catalog's copy only`);
  }
  return out;
}

/**
 * Where two values differ, down to the leaves: `[path, in the store, in the catalog]` for each
 * (`source.tables[public.users].rows`, 11, 10). Objects are compared key by key and arrays
 * entry by entry — by `schema.table` when their entries name tables, else by position — so a
 * message names the row count that differs rather than the whole list. A side that lacks a key
 * or an entry shows as undefined (`none`). Values of different shapes are one difference.
 */
function differences(
  path: string,
  a: unknown,
  b: unknown,
): (readonly [string, unknown, unknown])[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (Array.isArray(a) && Array.isArray(b)) {
    const keyed = [...a, ...b].every(isTableEntry);
    const keyOf = (entry: unknown, i: number) =>
      keyed ? `${(entry as TableEntry).schema}.${(entry as TableEntry).table}` : String(i);
    const left = new Map(a.map((entry, i) => [keyOf(entry, i), entry]));
    const right = new Map(b.map((entry, i) => [keyOf(entry, i), entry]));
    const keys = [...new Set([...left.keys(), ...right.keys()])];
    return keys.flatMap((key) => differences(`${path}[${key}]`, left.get(key), right.get(key)));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((key) => differences(`${path}.${key}`, a[key], b[key]));
  }
  return [[path, a, b]];
}

interface TableEntry {
  readonly schema: string;
  readonly table: string;
}

function isTableEntry(value: unknown): value is TableEntry {
  return (
    isPlainObject(value) && typeof value.schema === 'string' && typeof value.table === 'string'
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (value === undefined) return 'none';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (value === null) return 'none';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

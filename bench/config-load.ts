import { performance } from 'node:perf_hooks';
import { parseConfig } from '../src/config/load-config.ts';

/**
 * A configuration with `targets` targets (postgres, directory and redis in turn, a third of
 * them from `${VAR}`s), profiles of up to 1,000 targets each plus one with every target, a
 * policy and role per hundred targets, and drills with checks: every part that names others.
 */
export function generateConfig(targets: number): { text: string; env: Record<string, string> } {
  const name = (index: number) => `t-${index.toString(36)}`;
  const lines: string[] = ['targets:'];
  const env: Record<string, string> = {};
  for (let index = 0; index < targets; index += 1) {
    const target = name(index);
    if (index % 3 === 0) {
      const variable = `DB_URL_${index}`;
      env[variable] = `postgres://app:secret-${index}@db-${index}:5432/app`;
      lines.push(`  ${target}: { kind: postgres, url: "\${${variable}}", environment: staging }`);
    } else if (index % 3 === 1) {
      lines.push(`  ${target}: { kind: directory, path: /srv/${target}, exclude: ["*.tmp"] }`);
    } else {
      lines.push(`  ${target}: { kind: redis, url: "redis://cache-${index}:6379/0" }`);
    }
  }
  lines.push(
    'profiles:',
    `  all: { targets: [${Array.from({ length: targets }, (_, i) => name(i)).join(', ')}] }`,
  );
  for (let start = 0; start < targets; start += 1000) {
    const members = Array.from({ length: Math.min(1000, targets - start) }, (_, i) =>
      name(start + i),
    );
    lines.push(
      `  p-${start}: { targets: [${members.join(', ')}], schedule: "0 2 * * *", retention: { daily: 7 } }`,
    );
  }
  lines.push('roles:');
  for (let index = 0; index < targets / 100; index += 1) {
    lines.push(`  r-${index}: ["console:user-${index}", "slack:U${index}"]`);
  }
  lines.push('policies:');
  for (let index = 0; index < targets / 100; index += 1) {
    lines.push(
      `  - { action: restore, environment: staging, approvals: 1, approvers: [r-${index}] }`,
    );
  }
  lines.push('drills:');
  for (let start = 0; start < targets; start += 1000) {
    const postgres = start + ((3 - (start % 3)) % 3);
    lines.push(
      `  d-${start}: { profile: p-${start}, checks: [{ target: ${name(postgres)}, sql: "select 1" }] }`,
    );
  }
  return { text: `${lines.join('\n')}\n`, env };
}

export interface ConfigLoadResult {
  readonly targets: number;
  readonly bytes: number;
  /** Median wall time of `parseConfig` (read YAML, interpolate, validate, cross-check). */
  readonly seconds: number;
}

/** Times loading a generated config of `targets` targets, `repeat` times, keeping the median. */
export function measureConfigLoad(targets: number, repeat: number): ConfigLoadResult {
  const { text, env } = generateConfig(targets);
  const times: number[] = [];
  for (let run = 0; run < repeat; run += 1) {
    const started = performance.now();
    const loaded = parseConfig(text, env, `bench-${targets}.yaml`);
    times.push((performance.now() - started) / 1000);
    if (Object.keys(loaded.config.targets).length !== targets) {
      throw new Error(
        `loaded ${Object.keys(loaded.config.targets).length} targets, not ${targets}`,
      );
    }
  }
  times.sort((a, b) => a - b);
  return {
    targets,
    bytes: Buffer.byteLength(text),
    seconds: times[Math.floor(times.length / 2)] ?? 0,
  };
}

/** The figures as `npm run bench -- --config-load` prints them. */
export function renderConfigLoad(results: readonly ConfigLoadResult[]): string {
  const lines = [
    'Loading a generated configuration (parseConfig: YAML, variables, schema, cross-references), median wall time',
    '',
    'targets    file MB   seconds   targets/s',
    ...results.map(
      (r) =>
        `${String(r.targets).padStart(7)}  ${(r.bytes / 1e6).toFixed(1).padStart(8)}  ${r.seconds.toFixed(2).padStart(8)}  ${Math.round(
          r.targets / r.seconds,
        )
          .toString()
          .padStart(10)}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

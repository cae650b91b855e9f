import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (file: string) => readFileSync(`${root}${file}`, 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | null>;
  volumes?: (string | { type: string; source: string; target: string })[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

// Compose resolves `<<: *lifeboat` merge keys; so must the parser.
const compose = parse(read('docker-compose.yml'), { merge: true }) as ComposeFile;

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

describe('docker-compose.yml', () => {
  it('defines postgres, redis, minio, the bot and the worker', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'minio', 'bot', 'worker']),
    );
    expect(service('postgres').image).toBe('postgres:15');
    expect(service('redis').image).toBe('redis:7');
  });

  it('runs `lifeboat bot` and `lifeboat worker` from the image built here', () => {
    expect(service('bot').command).toEqual(['lifeboat', 'bot']);
    expect(service('worker').command).toEqual(['lifeboat', 'worker']);
    expect(service('bot').build).toBe('.');
    expect(service('worker').build).toBe('.');
  });

  it.each(['bot', 'worker'])('starts the %s only once its services are healthy', (name) => {
    expect(service(name).depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      minio: { condition: 'service_healthy' },
      'minio-init': { condition: 'service_completed_successfully' },
    });
  });

  it('gives every service that others wait on a health check', () => {
    const awaited = Object.values(compose.services).flatMap((s) =>
      Object.entries(s.depends_on ?? {})
        .filter(([, dependency]) => dependency.condition === 'service_healthy')
        .map(([name]) => name),
    );

    expect(awaited.length).toBeGreaterThan(0);
    for (const name of awaited) expect(service(name).healthcheck?.test, name).toBeDefined();
  });

  it('runs redis without eviction, as BullMQ requires', () => {
    const command = service('redis').command ?? [];

    expect(command[command.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
  });

  it('creates the backups bucket in a one-shot job', () => {
    const init = service('minio-init');

    expect(init.depends_on).toEqual({ minio: { condition: 'service_healthy' } });
    expect(init.entrypoint?.join(' ')).toContain('mc mb --ignore-existing lifeboat/backups');
  });

  it.each(['bot', 'worker'])('points the %s at the compose services and config', (name) => {
    const s = service(name);

    expect(s.environment).toMatchObject({
      DATABASE_URL: 'postgres://postgres:postgres@postgres:5432/lifeboat',
      REDIS_URL: 'redis://redis:6379',
      S3_ENDPOINT: 'http://minio:9000',
      LIFEBOAT_CONFIG: '/app/lifeboat.yaml',
    });
    expect(s.environment?.AWS_ACCESS_KEY_ID).toBe(service('minio').environment?.MINIO_ROOT_USER);
    expect(s.environment?.AWS_SECRET_ACCESS_KEY).toBe(
      service('minio').environment?.MINIO_ROOT_PASSWORD,
    );
    expect(s.volumes).toContainEqual(
      expect.objectContaining({ source: './lifeboat.yaml', target: '/app/lifeboat.yaml' }),
    );
    expect(s.volumes).toContain('backups:/app/.lifeboat/backups');
  });

  it('declares the named volumes the services mount', () => {
    const named = Object.values(compose.services)
      .flatMap((s) => s.volumes ?? [])
      .flatMap((v) => (typeof v === 'string' && !v.startsWith('.') ? [v.split(':')[0]] : []));

    expect(named).toContain('backups');
    for (const volume of named) expect(Object.keys(compose.volumes)).toContain(volume);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => /^[A-Z]+\s/.test(line));

  it('builds on Node 24 and installs the tools backups run', () => {
    expect(instructions[0]).toBe('FROM node:24-bookworm-slim');
    const install = instructions.find((line) => line.includes('apt-get install')) ?? '';
    for (const tool of ['postgresql-client', 'zstd', 'age', 'tar', 'redis-tools', 'redis-server']) {
      expect(install.split(/\s+/)).toContain(tool);
    }
  });

  it('installs production dependencies only, from the lockfile', () => {
    expect(instructions.some((line) => /^RUN npm ci --omit=dev/.test(line))).toBe(true);
  });

  it('copies only files that exist in the repository', () => {
    const sources = instructions
      .filter((line) => line.startsWith('COPY '))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));

    expect(sources).toEqual(
      expect.arrayContaining(['bin/', 'src/', 'commands/', 'runbooks/', 'lifeboat.example.yaml']),
    );
    for (const source of sources) expect(existsSync(`${root}${source}`), source).toBe(true);
  });

  it('runs as the unprivileged node user and starts the whole service by default', () => {
    expect(instructions).toContain('USER node');
    expect(instructions.at(-1)).toBe('CMD ["node", "bin/lifeboat.js", "start"]');
  });

  it('does not leave out of the build context a file it copies', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));

    for (const kept of [
      'bin',
      'src',
      'commands',
      'runbooks',
      'package.json',
      'package-lock.json',
    ]) {
      expect(ignored).not.toContain(kept);
    }
    expect(ignored).toEqual(expect.arrayContaining(['.git', 'node_modules', '.env', '.lifeboat']));
  });
});

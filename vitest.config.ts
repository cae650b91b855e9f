import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites talk to real PostgreSQL, Redis and child processes (pg_dump, tar).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

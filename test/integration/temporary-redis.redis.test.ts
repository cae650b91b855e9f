import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { startTemporaryRedis } from '../../src/redis/temporary-redis.ts';
import { WAIT } from '../support/worker-harness.ts';

const CHILD = new URL('../support/children/temporary-redis-child.ts', import.meta.url).pathname;

async function answers(port: number): Promise<boolean> {
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

describe('a private redis-server of a restore or a verification', () => {
  it('does not outlive the process that started it when that process is killed', async () => {
    // Its staging directory goes under a TMPDIR of the test's own.
    const tmp = await mkdtemp(join(tmpdir(), 'lifeboat-temp-redis-'));
    onTestFinished(() => rm(tmp, { recursive: true, force: true }));
    const child = spawn(process.execPath, [CHILD], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TMPDIR: tmp },
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8');
      child.stdout.once('data', (text: string) => resolve(Number(text.trim())));
      child.once('exit', () => reject(new Error('the child ended before it started redis')));
    });
    expect(await answers(port)).toBe(true);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await vi.waitFor(async () => {
      expect(await answers(port)).toBe(false);
    }, WAIT);
  });

  it('names a redis-server that is not installed, through setpriv too', async () => {
    await expect(
      startTemporaryRedis({ redisServer: '/nonexistent/redis-server' }),
    ).rejects.toMatchObject({ code: 'redis_server_missing' });
  });
});

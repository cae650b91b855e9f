import { describe, expect, it } from 'vitest';
import type { StatusReport } from '../../../src/app/services.ts';
import { renderMetrics } from '../../../src/http/metrics.ts';

const redisDown: StatusReport = {
  services: [
    { name: 'PostgreSQL (catalog)', ok: true, detail: 'postgres://127.0.0.1:5432/lifeboat' },
    { name: 'Redis (queue)', ok: false, detail: 'redis://127.0.0.1:6379: connection refused' },
  ],
  workers: null,
  queue: null,
  profiles: [],
};

describe('/metrics', () => {
  it('reports a service that is down with its up-gauge at 0 and leaves out what it cannot know', () => {
    const text = renderMetrics(redisDown);
    expect(text).toContain('lifeboat_service_up{service="PostgreSQL (catalog)"} 1');
    expect(text).toContain('lifeboat_service_up{service="Redis (queue)"} 0');
    expect(text).not.toContain('lifeboat_workers');
    expect(text).not.toContain('lifeboat_queue_jobs');
  });

  it('reports workers and queue depth while Redis answers', () => {
    const text = renderMetrics({
      ...redisDown,
      workers: 2,
      queue: { waiting: 3, active: 1, failed: 0 },
    });
    expect(text).toContain('lifeboat_workers 2');
    expect(text).toContain('lifeboat_queue_jobs{state="waiting"} 3');
  });
});

import { createServer, type RequestListener, type Server } from 'node:http';
import type { StatusReport, SystemStatus } from '../app/services.ts';
import type { Logger } from '../logging/logger.ts';
import { renderMetrics } from './metrics.ts';

export interface HttpServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly status: SystemStatus;
  readonly logger: Logger;
  /**
   * The longest `/readyz` and `/metrics` wait for the status report before answering 503, on
   * top of the report's own bound on each probe. @defaultValue 5000
   */
  readonly reportTimeoutMs?: number;
  /**
   * More endpoints by exact path, any method: the chat platforms' (`/slack/events`,
   * `/discord/interactions`). They read the raw body themselves, to check its signature.
   */
  readonly routes?: ReadonlyMap<string, RequestListener>;
}

/**
 * `/healthz` (the process is alive), `/readyz` (PostgreSQL and Redis answer) and `/metrics`
 * (Prometheus text). Both answer within a bounded time whatever is down: `/readyz` with 503 and
 * the services that are down; `/metrics` with 200 and `lifeboat_service_up` at 0 for them,
 * keeping the figures that could still be read (a scrape that fails would lose them all, the
 * last-success times included, just when they matter), or 503 when no report came in time.
 * The chat platforms' endpoints mount here too (`routes`).
 */
export async function startHttpServer(options: HttpServerOptions): Promise<Server> {
  const reportTimeoutMs = options.reportTimeoutMs ?? 5_000;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = options.routes?.get(path);
    if (route) {
      try {
        route(req, res);
      } catch (error) {
        options.logger.error({ err: error, path }, 'endpoint failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      }
      return;
    }
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(200, 'text/plain', 'ok\n');
    if (path === '/readyz' || path === '/metrics') {
      boundedReport(options.status, reportTimeoutMs)
        .then((report) => {
          if (path === '/metrics') {
            return send(200, 'text/plain; version=0.0.4', renderMetrics(report));
          }
          const down = report.services.filter((s) => !s.ok).map((s) => s.name);
          send(
            down.length === 0 ? 200 : 503,
            'application/json',
            `${JSON.stringify({ ready: down.length === 0, down, services: report.services })}\n`,
          );
        })
        .catch((error: unknown) => {
          options.logger.error({ err: error }, 'status report failed');
          const why = error instanceof Error ? error.message : String(error);
          if (path === '/metrics') return send(503, 'text/plain', `no status report: ${why}\n`);
          send(503, 'application/json', `${JSON.stringify({ ready: false, error: why })}\n`);
        });
      return;
    }
    send(404, 'text/plain', 'not found; try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** The status report, or a rejection once `ms` passed without one. */
async function boundedReport(status: SystemStatus, ms: number): Promise<StatusReport> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no status report within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([status.report(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

import { createServer, type Server } from 'node:http';
import type { SystemStatus } from '../bot/services.ts';
import type { Logger } from '../logging/logger.ts';
import { renderMetrics } from './metrics.ts';

export interface HttpServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly status: SystemStatus;
  readonly logger: Logger;
}

/**
 * `/healthz` (the process is alive), `/readyz` (PostgreSQL and Redis answer) and `/metrics`
 * (Prometheus text). Platform endpoints for Slack and Discord mount here in later versions.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(200, 'text/plain', 'ok\n');
    if (path === '/readyz' || path === '/metrics') {
      options.status
        .report()
        .then((report) => {
          if (path === '/metrics') {
            return send(200, 'text/plain; version=0.0.4', renderMetrics(report));
          }
          const ready = report.services.every((s) => s.ok);
          send(
            ready ? 200 : 503,
            'application/json',
            `${JSON.stringify({ ready, services: report.services })}\n`,
          );
        })
        .catch((error: unknown) => {
          options.logger.error({ err: error }, 'status report failed');
          send(503, 'application/json', `${JSON.stringify({ ready: false })}\n`);
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

/** The gate's HTTP endpoints: GET /ready, /live, /metrics (HEAD too). Nothing here judges. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Readiness } from './readiness.ts';

export interface GateEndpoints {
  /** The full readiness decision, health probe included. */
  readiness(): Promise<Readiness>;
  /** Liveness: null when live, else the reason. */
  liveProblem(): string | null;
  /** Prometheus text. */
  metrics(): Promise<string>;
}

export function createGateServer(endpoints: GateEndpoints): Server {
  const server = createServer((req, res) => {
    route(endpoints, req, res).catch((err: unknown) => {
      send(res, req, 500, 'application/json', JSON.stringify({ error: String((err as Error)?.message ?? err) }));
    });
  });
  // Probes open a connection per request; do not hold idle sockets for long.
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
}

async function route(endpoints: GateEndpoints, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, req, 405, 'application/json', '{"error":"method not allowed"}');
  }
  switch (path) {
    case '/ready': {
      const r = await endpoints.readiness();
      const body = r.ready ? { ready: true, reason: r.reason } : { ready: false, reason: r.reason, kind: r.kind };
      return send(res, req, r.ready ? 200 : 503, 'application/json', JSON.stringify(body));
    }
    case '/live': {
      const problem = endpoints.liveProblem();
      return send(res, req, problem ? 503 : 200, 'application/json', JSON.stringify(problem ? { live: false, reason: problem } : { live: true }));
    }
    case '/metrics':
      return send(res, req, 200, 'text/plain; version=0.0.4; charset=utf-8', await endpoints.metrics());
    default:
      return send(res, req, 404, 'application/json', '{"error":"not found (try /ready, /live, /metrics)"}');
  }
}

function send(res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

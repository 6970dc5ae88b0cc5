/**
 * The gate's HTTP endpoints (GET, and HEAD): /ready, /live, /engine/live, /drain, /metrics.
 * Nothing here judges; only /drain changes anything (the preStop hook sends a GET).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { DrainResult } from './drain.ts';
import type { Readiness } from './readiness.ts';

export interface GateEndpoints {
  /** The readiness decision (no I/O). */
  readiness(): Readiness;
  /** Liveness of the gate itself: null when live, else the reason. */
  liveProblem(): string | null;
  /** Liveness of vLLM's engine: null unless there is positive evidence that it is stuck. */
  engineProblem(): string | null;
  /** Starts (or joins) the drain; resolves when it is over. */
  drain(): Promise<DrainResult>;
  /** Prometheus text. */
  metrics(): string;
}

export function createGateServer(endpoints: GateEndpoints): Server {
  const server = createServer((req, res) => {
    route(endpoints, req, res).catch((err: unknown) => {
      send(res, req, 500, 'application/json', JSON.stringify({ error: String((err as Error)?.message ?? err) }));
    });
  });
  // Probes open a connection per request; do not hold idle sockets for long. These bound reading
  // the request only: a /drain answer may take minutes.
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
      const r = endpoints.readiness();
      const body = r.ready ? { ready: true, reason: r.reason } : { ready: false, reason: r.reason, kind: r.kind };
      return send(res, req, r.ready ? 200 : 503, 'application/json', JSON.stringify(body));
    }
    case '/live':
      return sendLive(res, req, endpoints.liveProblem());
    case '/engine/live':
      return sendLive(res, req, endpoints.engineProblem());
    case '/drain': {
      // Draining takes the pod out of the Service: only the pod itself may ask (vLLM's preStop
      // hook runs inside the pod and calls 127.0.0.1).
      if (!fromLoopback(req.socket.remoteAddress)) {
        return send(res, req, 403, 'application/json', '{"error":"GET /drain is accepted only from inside the pod (127.0.0.1): it takes the pod out of the Service"}');
      }
      const r = await endpoints.drain();
      return send(res, req, 200, 'application/json', JSON.stringify(r));
    }
    case '/metrics':
      return send(res, req, 200, 'text/plain; version=0.0.4; charset=utf-8', endpoints.metrics());
    default:
      return send(res, req, 404, 'application/json', '{"error":"not found (try /ready, /live, /engine/live, /drain, /metrics)"}');
  }
}

function sendLive(res: ServerResponse, req: IncomingMessage, problem: string | null): void {
  send(res, req, problem ? 503 : 200, 'application/json', JSON.stringify(problem ? { live: false, reason: problem } : { live: true }));
}

function send(res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Whether a connection comes from this host's loopback (IPv4 127/8, IPv6 ::1, or IPv4 mapped in IPv6). */
export function fromLoopback(remoteAddress: string | undefined): boolean {
  if (!remoteAddress) return false;
  return remoteAddress === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(remoteAddress);
}

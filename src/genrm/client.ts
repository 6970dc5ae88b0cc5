/**
 * HTTP to the vLLM server with Node's own `http` module: plain JSON, a hard bound on every request,
 * the bearer key when one is set, and every failure classified into a stable kind with an
 * actionable reason. Never throws for a server problem; never puts the key in a reason.
 *
 * Why not `fetch`: Node 20's bundled undici can lose the abort signal of a `fetch` while a body
 * stalls (undici issues 4627 and 4750), and then the caller waits forever. Here one timer of our
 * own destroys the socket at the bound, whatever phase the request is in (connect, headers, body).
 * Each request uses a fresh connection (no keep-alive pool), so a connection the server closed
 * while idle can never fail a later request.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MAX_TIMER_MS } from './limits.ts';
import { apiUrl } from './urls.ts';
import { fail, ok, type Failure, type Result } from './result.ts';
import { oneLine, redact, seconds, truncateEnd } from './text.ts';

/** Bodies larger than this are refused (a verdict answer is a few hundred KiB at most). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** How much of a server's error message a reason quotes. */
export const SERVER_MESSAGE_CHARS = 300;

export { MAX_TIMER_MS, MAX_TIMER_SECONDS } from './limits.ts';

export interface RequestOptions {
  /** Sent as `Authorization: Bearer <key>` when set and non-empty. Never logged. */
  apiKey?: string;
  /** The hard bound of the request: connection, headers and the whole body (ms, at most MAX_TIMER_MS). */
  timeoutMs: number;
  /** The caller's signal (shutdown, or a deadline over several requests). */
  signal?: AbortSignal;
}

export interface HttpAnswer {
  status: number;
  text: string;
  durationMs: number;
}

/**
 * One HTTP request. A non-2xx status is a failure (`auth` for 401/403, `http_status` otherwise);
 * so are refused connections, timeouts and oversized bodies. Always settles within `timeoutMs`
 * (plus the event loop's delay), a stalled body included.
 */
export function request(method: 'GET' | 'POST', url: string, body: unknown, options: RequestOptions): Promise<Result<HttpAnswer>> {
  const started = performance.now();
  const where = `${method} ${url}`;
  const timeoutMs = Math.min(Math.max(options.timeoutMs, 1), MAX_TIMER_MS);
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const settle = (result: Result<HttpAnswer>, destroy?: { destroy(): void }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (onAbort) options.signal?.removeEventListener('abort', onAbort);
      destroy?.destroy();
      resolve(result.ok ? result : { ...result, reason: redact(result.reason, options.apiKey) });
    };

    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return settle(fail('network_error', `${where}: not a valid URL`));
    }
    const headers: Record<string, string> = { accept: 'application/json', connection: 'close' };
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.byteLength);
    }
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

    const aborted = (): Failure => {
      const reason = options.signal?.reason as { name?: string } | undefined;
      return reason?.name === 'TimeoutError'
        ? fail('timeout', `${where}: stopped at the overall deadline before the server answered`)
        : fail('cancelled', `${where}: cancelled`);
    };
    // Checked before any socket exists: a request destroyed before its 'error' listener is
    // attached emits an error nobody handles, and that ends the process.
    if (options.signal?.aborted) return settle(aborted());
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, { method, headers, agent: false });
    req.on('error', (err) => settle(classifyError(err, where, options.apiKey)));
    onAbort = (): void => settle(aborted(), req);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(() => {
      settle(fail('timeout', `${where}: no complete answer within ${seconds(timeoutMs)} (the request timeout); the server may be overloaded or hung`), req);
    }, timeoutMs);

    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > MAX_BODY_BYTES) return settle(fail('bad_response', `${where}: the body is larger than ${MAX_BODY_BYTES} bytes`, status), req);
        chunks.push(chunk);
      });
      res.on('error', (err) => settle(classifyError(err, where, options.apiKey)));
      res.on('aborted', () => settle(fail('network_error', `${where}: the server closed the connection before the body was complete`)));
      res.on('end', () => {
        if (!res.complete) return settle(fail('network_error', `${where}: the server closed the connection before the body was complete`));
        const text = Buffer.concat(chunks).toString('utf8');
        if (status >= 200 && status < 300) return settle(ok({ status, text, durationMs: performance.now() - started }));
        settle(httpFailure(method, url, status, text, options.apiKey));
      });
    });
    req.end(payload);
  });
}

/** A request whose 2xx body must be JSON. */
export async function requestJson(
  method: 'GET' | 'POST',
  url: string,
  body: unknown,
  options: RequestOptions,
): Promise<Result<{ status: number; json: unknown; durationMs: number }>> {
  const answer = await request(method, url, body, options);
  if (!answer.ok) return answer;
  try {
    return ok({ status: answer.value.status, json: JSON.parse(answer.value.text) as unknown, durationMs: answer.value.durationMs });
  } catch {
    const excerpt = redact(truncateEnd(oneLine(answer.value.text), 120), options.apiKey);
    return fail('bad_response', `${method} ${url} answered HTTP ${answer.value.status} with a body that is not JSON: ${JSON.stringify(excerpt)}`, answer.value.status);
  }
}

/** The model ids that `GET {base}/models` lists. */
export async function listServedModels(baseUrl: string, options: RequestOptions): Promise<Result<string[]>> {
  const url = apiUrl(baseUrl, 'models');
  const answer = await requestJson('GET', url, undefined, options);
  if (!answer.ok) return answer;
  const data = (answer.value.json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return fail('bad_response', `GET ${url}: the body has no "data" list of models`);
  return ok(data.flatMap((m) => (m && typeof (m as { id?: unknown }).id === 'string' ? [(m as { id: string }).id] : [])));
}

/** Posts a chat-completions body and returns the parsed JSON answer (not yet interpreted). */
export async function createChatCompletion(baseUrl: string, body: unknown, options: RequestOptions): Promise<Result<unknown>> {
  const answer = await requestJson('POST', apiUrl(baseUrl, 'chat/completions'), body, options);
  return answer.ok ? ok(answer.value.json) : answer;
}

function httpFailure(method: string, url: string, status: number, text: string, apiKey: string | undefined): Failure {
  const message = redact(truncateEnd(oneLine(serverMessage(text)), SERVER_MESSAGE_CHARS), apiKey);
  const said = message ? `: ${message}` : '';
  if (status === 401 || status === 403) {
    const what = apiKey
      ? 'the server refused the API key: check that GENRM_API_KEY matches the server\'s --api-key (in the cluster, the Secret the pod reads)'
      : 'the server requires an API key: set GENRM_API_KEY (in the cluster, check the Secret the pod reads)';
    return fail('auth', `${method} ${url} answered HTTP ${status}${said} (${what})`, status);
  }
  const hint = status === 404 && !/\/v1\//.test(url) ? ' (is the base URL the OpenAI base including /v1, e.g. http://host:5000/v1?)' : '';
  return fail('http_status', `${method} ${url} answered HTTP ${status}${said}${hint}`, status);
}

/** The error message in an OpenAI/vLLM/FastAPI error body, else the raw text. */
function serverMessage(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const error = body?.error;
    if (typeof body?.message === 'string') return body.message;
    if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
      return (error as { message: string }).message;
    }
    if (typeof error === 'string') return error;
    if (typeof body?.detail === 'string') return body.detail;
    return text;
  } catch {
    return text;
  }
}

function classifyError(err: unknown, where: string, apiKey: string | undefined): Failure {
  const codes = errorCodes(err);
  if (codes.includes('ECONNREFUSED')) {
    return fail('connection_refused', `${where}: connection refused (the server is not running, or still loading the model)`);
  }
  const code = codes[0];
  const message = redact(oneLine(errorMessage(err)), apiKey);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return fail('network_error', `${where}: cannot resolve the host (${code})`);
  return fail('network_error', `${where}: ${message}${code ? ` (${code})` : ''}`);
}

/** Error codes along the cause chain (undici wraps socket errors, sometimes in an AggregateError). */
function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (!e || typeof e !== 'object' || seen.has(e)) return;
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    visit((e as { cause?: unknown }).cause);
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) errors.forEach(visit);
  };
  visit(err);
  return codes;
}

function errorMessage(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  const cause = e?.cause?.message;
  return cause && cause !== e?.message ? `${e?.message ?? 'request failed'}: ${cause}` : (e?.message ?? String(err));
}

/**
 * HTTP to the vLLM server with Node's own fetch: plain JSON, a timeout on every request, the bearer
 * key when one is set, and every failure classified into a stable kind with an actionable reason.
 * Never throws for a server problem; never puts the key in a reason.
 */
import { apiUrl } from './urls.ts';
import { fail, ok, type Failure, type Result } from './result.ts';
import { oneLine, redact, seconds, truncateEnd } from './text.ts';

/** Bodies larger than this are refused (a verdict answer is a few hundred KiB at most). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** How much of a server's error message a reason quotes. */
export const SERVER_MESSAGE_CHARS = 300;

export interface RequestOptions {
  /** Sent as `Authorization: Bearer <key>` when set and non-empty. Never logged. */
  apiKey?: string;
  /** Abort the request (connection, headers and body) after this long. */
  timeoutMs: number;
  /** The caller's signal (shutdown, or a deadline over several requests). */
  signal?: AbortSignal;
  /** For tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export interface HttpAnswer {
  status: number;
  text: string;
  durationMs: number;
}

/**
 * One HTTP request. A non-2xx status is a failure (`auth` for 401/403, `http_status` otherwise);
 * so are refused connections, timeouts and oversized bodies.
 */
export async function request(
  method: 'GET' | 'POST',
  url: string,
  body: unknown,
  options: RequestOptions,
): Promise<Result<HttpAnswer>> {
  const first = await requestOnce(method, url, body, options);
  // A GET on a pooled keep-alive connection that the server closed fails with a reset; GETs are
  // idempotent, so retry once on a fresh connection before calling it a failure.
  if (!first.ok && first.kind === 'network_error' && method === 'GET' && !options.signal?.aborted) {
    return requestOnce(method, url, body, options);
  }
  return first;
}

async function requestOnce(
  method: 'GET' | 'POST',
  url: string,
  body: unknown,
  options: RequestOptions,
): Promise<Result<HttpAnswer>> {
  const started = performance.now();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const doFetch = options.fetch ?? fetch;
  let status: number;
  let text: string;
  try {
    const res = await doFetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      redirect: 'error',
    });
    status = res.status;
    const read = await readText(res, MAX_BODY_BYTES);
    if (!read.ok) return fail('bad_response', `${method} ${url}: the body is larger than ${MAX_BODY_BYTES} bytes`, status);
    text = read.text;
  } catch (err) {
    return classifyFetchError(err, { method, url, timeoutMs: options.timeoutMs, timeout, signal: options.signal, apiKey: options.apiKey });
  }
  const durationMs = performance.now() - started;
  if (status >= 200 && status < 300) return ok({ status, text, durationMs });
  return httpFailure(method, url, status, text, options.apiKey);
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

/** Reads a body up to `limit` bytes, then gives up (cancelling the rest). */
async function readText(res: Response, limit: number): Promise<{ ok: true; text: string } | { ok: false }> {
  if (!res.body) return { ok: true, text: '' };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return { ok: false };
    }
    chunks.push(value);
  }
  return { ok: true, text: Buffer.concat(chunks).toString('utf8') };
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

interface FetchContext {
  method: string;
  url: string;
  timeoutMs: number;
  timeout: AbortSignal;
  signal?: AbortSignal;
  apiKey?: string;
}

function classifyFetchError(err: unknown, ctx: FetchContext): Failure {
  const where = `${ctx.method} ${ctx.url}`;
  if (ctx.signal?.aborted) {
    const reason = ctx.signal.reason as { name?: string } | undefined;
    if (reason?.name === 'TimeoutError') return fail('timeout', `${where}: stopped at the overall deadline before the server answered`);
    return fail('cancelled', `${where}: cancelled`);
  }
  if (ctx.timeout.aborted) {
    return fail('timeout', `${where}: no complete answer within ${seconds(ctx.timeoutMs)} (the request timeout); the server may be overloaded or hung`);
  }
  const codes = errorCodes(err);
  if (codes.includes('ECONNREFUSED')) {
    return fail('connection_refused', `${where}: connection refused (the server is not running, or still loading the model)`);
  }
  const code = codes[0];
  const message = redact(oneLine(errorMessage(err)), ctx.apiKey);
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

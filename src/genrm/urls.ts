/**
 * The server's addresses, derived from one OpenAI base URL such as `http://127.0.0.1:5000/v1`.
 *
 * vLLM serves the OpenAI API under `/v1` but its `/health` at the root, outside `/v1` (and open
 * even when an API key protects `/v1`).
 */
/**
 * Validates and normalizes a base URL (http or https, no credentials, no query; trailing slashes
 * removed). Returns a problem message for a bad value.
 */
export function normalizeBaseUrl(raw: string): { ok: true; value: string } | { ok: false; reason: string } {
  const trimmed = raw.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { ok: false, reason: `'${raw}' is not a URL (expected e.g. http://127.0.0.1:5000/v1)` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `'${raw}' must use http or https (expected e.g. http://127.0.0.1:5000/v1)` };
  }
  if (url.username || url.password) {
    return { ok: false, reason: 'the base URL must not carry credentials; set GENRM_API_KEY instead' };
  }
  if (url.search || url.hash) {
    return { ok: false, reason: `'${raw}' must not have a query or fragment (expected e.g. http://127.0.0.1:5000/v1)` };
  }
  const path = url.pathname.replace(/\/+$/, '');
  return { ok: true, value: `${url.origin}${path}` };
}

/** `{base}/{path}` for an OpenAI endpoint such as `models` or `chat/completions`. */
export function apiUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** vLLM's `/health`: the base URL without its trailing `/v1`, plus `/health`. */
export function healthUrl(baseUrl: string): string {
  return serverUrl(baseUrl, 'health');
}

/** A path at the server's root, outside `/v1` (vLLM's `/health`, `/tokenize`). */
export function serverUrl(baseUrl: string, path: string): string {
  const root = baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  return `${root}/${path}`;
}

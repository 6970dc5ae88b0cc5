/**
 * Keeping secrets out of genrm's output. genrm never reads Secrets (`get secret` is never called),
 * but kubectl's own messages can embed whole objects (an "immutable field" error dumps the pod
 * template, env values included), and a pod spec can carry literal env values. Everything kubectl
 * prints passes through here before genrm shows it.
 */

const SENSITIVE_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|CREDENTIAL|PRIVATE)/i;
export const REDACTED = '[redacted]';

/**
 * Shortens a kubectl error message for humans: drops Go struct dumps (`core.PodTemplateSpec{...}`,
 * which can carry env values), bearer tokens, and the long "Please review the fields above" advice.
 */
export function sanitizeMessage(text: string): string {
  return text
    .replace(/\b[a-z0-9]+\.[A-Z][A-Za-z0-9]*\{.*\}(?=:)/g, '<object>')
    .replace(/\b[a-z0-9]+\.[A-Z][A-Za-z0-9]*\{[^\n]*/g, '<object>')
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, `$1${REDACTED}`)
    .replace(/\b(hf_[A-Za-z0-9]{6,})\b/g, REDACTED);
}

/**
 * A deep copy of a Kubernetes object with secret material removed: the `data`/`stringData` of a
 * Secret, and literal env values whose name looks sensitive (values taken from Secrets through
 * `valueFrom.secretKeyRef` only name the Secret, and are kept).
 */
export function redactObject<T>(value: T): T {
  return redact(value) as T;
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const isSecret = obj.kind === 'Secret';
  for (const [k, v] of Object.entries(obj)) {
    if (isSecret && (k === 'data' || k === 'stringData')) {
      out[k] = Object.fromEntries(Object.keys((v as object) ?? {}).map((key) => [key, REDACTED]));
    } else if (k === 'env' && Array.isArray(v)) {
      out[k] = v.map((e) => redactEnvVar(e));
    } else {
      out[k] = redact(v);
    }
  }
  return out;
}

function redactEnvVar(e: unknown): unknown {
  if (e === null || typeof e !== 'object') return e;
  const env = e as { name?: unknown; value?: unknown };
  if (typeof env.value === 'string' && typeof env.name === 'string' && SENSITIVE_NAME.test(env.name)) {
    return { ...env, value: REDACTED };
  }
  return redact(e);
}

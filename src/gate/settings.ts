/**
 * The gate's settings: command-line flags first, then environment variables (how the pod sets
 * them), then defaults. One validation step that reports every bad value at once.
 */
import { MAX_TIMER_SECONDS } from '../genrm/client.ts';
import { CARD_MAX_MODEL_LEN, DEFAULT_MAX_TOKENS, DEFAULT_MODEL } from '../genrm/request.ts';
import { longCaseRoomProblem, SUITE_NAMES, type SuiteName } from '../genrm/suite.ts';
import { normalizeBaseUrl } from '../genrm/urls.ts';

export const DEFAULT_GATE_PORT = 8081;
export const DEFAULT_GATE_HOST = '0.0.0.0';
export const DEFAULT_RECHECK_SECONDS = 600;
export const MIN_RECHECK_SECONDS = 60;
export const DEFAULT_GATE_REQUEST_TIMEOUT_SECONDS = 300;
export const DEFAULT_STALL_SECONDS = 300;
export const MIN_STALL_SECONDS = 30;

/** Environment variables the gate reads (flags win over them). */
export const GATE_ENV = {
  baseUrl: 'GENRM_GATE_BASE_URL',
  model: 'GENRM_GATE_MODEL',
  port: 'GENRM_GATE_PORT',
  host: 'GENRM_GATE_HOST',
  recheckSeconds: 'GENRM_GATE_RECHECK_SECONDS',
  requestTimeoutSeconds: 'GENRM_GATE_REQUEST_TIMEOUT_SECONDS',
  maxTokens: 'GENRM_GATE_MAX_TOKENS',
  stallSeconds: 'GENRM_GATE_STALL_SECONDS',
  drainMaxSeconds: 'GENRM_GATE_DRAIN_MAX_SECONDS',
  priority: 'GENRM_GATE_PRIORITY',
  suite: 'GENRM_GATE_SUITE',
  maxModelLen: 'GENRM_GATE_MAX_MODEL_LEN',
  apiKey: 'GENRM_API_KEY',
  /** For tests only: lifts the lower bound of every interval (and allows fractions). Never set it in a pod. */
  allowFastRecheck: 'GENRM_GATE_ALLOW_FAST_RECHECK',
} as const;

/** The flags, in node:util parseArgs form (shared by the standalone entry and `genrm gate`). */
export const GATE_OPTIONS = {
  'base-url': { type: 'string' },
  model: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'recheck-seconds': { type: 'string' },
  timeout: { type: 'string' },
  'max-tokens': { type: 'string' },
  'stall-seconds': { type: 'string' },
  'drain-max-seconds': { type: 'string' },
  priority: { type: 'string' },
  suite: { type: 'string' },
  'max-model-len': { type: 'string' },
} as const;

export type GateFlags = Partial<Record<keyof typeof GATE_OPTIONS, string | boolean | undefined>>;

export interface GateSettings {
  /** OpenAI base URL including /v1. */
  baseUrl: string;
  model: string;
  /** Bearer key for /v1; from GENRM_API_KEY only, never a flag (flags show in `ps`). */
  apiKey: string | undefined;
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  recheckSeconds: number;
  /** Timeout of each judging request (and of each /models poll). */
  requestTimeoutSeconds: number;
  maxTokens: number;
  /** No generated token this long while requests run or wait: GET /engine/live answers 503. */
  stallSeconds: number;
  /** Longest wait of GET /drain for running and waiting requests to finish. */
  drainMaxSeconds: number;
  /** vLLM's `priority` on the gate's judging requests (lower is first); unset: not sent. */
  priority: number | undefined;
  /** What the first check judges: the whole judging suite, or the 1+2 pair in both orders. */
  suite: SuiteName;
  /** The server's window (vLLM's --max-model-len): the suite's long-context case is sized for it. */
  maxModelLen: number;
  /** Lower bounds of intervals lifted (tests only). */
  fast: boolean;
}

/** Bad settings; `problems` holds one line per bad value. */
export class GateConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid gate settings (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
    this.name = 'GateConfigError';
    this.problems = problems;
  }
}

/** Resolves flags + environment into settings, or throws GateConfigError listing every problem. */
export function resolveGateSettings(flags: GateFlags, env: NodeJS.ProcessEnv): GateSettings {
  const problems: string[] = [];
  const pick = (flag: keyof typeof GATE_OPTIONS, envName: string): { raw: string | undefined; source: string } => {
    const f = flags[flag];
    if (typeof f === 'string') return { raw: f, source: `--${flag}` };
    const e = env[envName];
    if (e !== undefined && e !== '') return { raw: e, source: envName };
    return { raw: undefined, source: `--${flag}` };
  };

  const base = pick('base-url', GATE_ENV.baseUrl);
  let baseUrl = '';
  if (base.raw === undefined) problems.push(`--base-url (or ${GATE_ENV.baseUrl}) is required, e.g. http://127.0.0.1:5000/v1`);
  else {
    const n = normalizeBaseUrl(base.raw);
    if (n.ok) baseUrl = n.value;
    else problems.push(`${base.source}: ${n.reason}`);
  }

  const modelRaw = pick('model', GATE_ENV.model).raw;
  const model = modelRaw?.trim() || DEFAULT_MODEL;
  const host = pick('host', GATE_ENV.host).raw?.trim() || DEFAULT_GATE_HOST;

  const num = (flag: keyof typeof GATE_OPTIONS, envName: string, fallback: number, check: (n: number) => string | null): number => {
    const { raw, source } = pick(flag, envName);
    if (raw === undefined) return fallback;
    const n = raw.trim() === '' ? Number.NaN : Number(raw);
    const problem = Number.isFinite(n) ? check(n) : 'must be a number';
    if (problem) {
      problems.push(`${source}: ${problem}, got '${raw}'`);
      return fallback;
    }
    return n;
  };

  const port = num('port', GATE_ENV.port, DEFAULT_GATE_PORT, (n) =>
    Number.isInteger(n) && n >= 0 && n <= 65535 ? null : 'must be an integer port 0..65535',
  );
  const fast = env[GATE_ENV.allowFastRecheck] === '1';
  // Every time setting is bounded where it is parsed: Node's timers fire after 1 ms past 2^31-1 ms.
  const seconds = (min: number, why: string) => (n: number): string | null => {
    if (n > MAX_TIMER_SECONDS) return `must be at most ${MAX_TIMER_SECONDS} seconds (about 24 days; longer timers overflow in Node)`;
    if (fast) return n > 0 ? null : 'must be greater than 0';
    return Number.isInteger(n) && n >= min ? null : `must be an integer of at least ${min}${why}`;
  };
  const recheckSeconds = num('recheck-seconds', GATE_ENV.recheckSeconds, DEFAULT_RECHECK_SECONDS, seconds(MIN_RECHECK_SECONDS, ' (every check sends thinking generations to the model)'));
  const requestTimeoutSeconds = num('timeout', GATE_ENV.requestTimeoutSeconds, DEFAULT_GATE_REQUEST_TIMEOUT_SECONDS, (n) => {
    if (n > MAX_TIMER_SECONDS) return `must be at most ${MAX_TIMER_SECONDS} seconds (about 24 days; longer timers overflow in Node)`;
    return n > 0 ? null : 'must be a number of seconds greater than 0';
  });
  const maxTokens = num('max-tokens', GATE_ENV.maxTokens, DEFAULT_MAX_TOKENS, (n) =>
    Number.isInteger(n) && n > 0 ? null : 'must be an integer greater than 0',
  );
  const stallSeconds = num('stall-seconds', GATE_ENV.stallSeconds, DEFAULT_STALL_SECONDS, seconds(MIN_STALL_SECONDS, ' (a long thinking step must not look like a stuck engine)'));
  const drainMaxSeconds = num('drain-max-seconds', GATE_ENV.drainMaxSeconds, requestTimeoutSeconds, seconds(1, ''));
  const priorityRaw = pick('priority', GATE_ENV.priority).raw;
  const priority =
    priorityRaw === undefined
      ? undefined
      : num('priority', GATE_ENV.priority, 0, (n) => (Number.isInteger(n) && Math.abs(n) <= 2 ** 31 ? null : 'must be an integer (lower is served first)'));

  const suiteRaw = pick('suite', GATE_ENV.suite);
  let suite: SuiteName = 'full';
  if (suiteRaw.raw !== undefined) {
    if ((SUITE_NAMES as readonly string[]).includes(suiteRaw.raw.trim())) suite = suiteRaw.raw.trim() as SuiteName;
    else problems.push(`${suiteRaw.source}: must be one of ${SUITE_NAMES.join(', ')}, got '${suiteRaw.raw}'`);
  }
  const maxModelLen = num('max-model-len', GATE_ENV.maxModelLen, CARD_MAX_MODEL_LEN, (n) =>
    Number.isInteger(n) && n >= 1024 && n <= 1_048_576 ? null : 'must be an integer number of tokens from 1024 to 1048576 (vLLM\'s --max-model-len)',
  );

  // A window with no room for the suite's long case would fail every first check: refuse it now.
  const room = problems.length === 0 && suite === 'full' ? longCaseRoomProblem(maxModelLen, maxTokens) : null;
  if (room) problems.push(`${pick('max-model-len', GATE_ENV.maxModelLen).source} / ${pick('max-tokens', GATE_ENV.maxTokens).source}: ${room} (or judge only the 1+2 pair with --suite card)`);

  if (problems.length) throw new GateConfigError(problems);
  const apiKey = env[GATE_ENV.apiKey] ? env[GATE_ENV.apiKey] : undefined;
  return { baseUrl, model, apiKey, host, port, recheckSeconds, requestTimeoutSeconds, maxTokens, stallSeconds, drainMaxSeconds, priority, suite, maxModelLen, fast };
}

/** The help text; `program` is how the user ran it (`genrm gate` or `node gate.mjs`). */
export function gateHelp(program: string): string {
  return `Usage: ${program} --base-url URL [options]

The readiness gate for a vLLM pod serving ${DEFAULT_MODEL}.
It waits until the model is listed by {base-url}/models, then runs its first check: the whole
judging suite (known-answer cases, one of them a long document sized for --max-model-len), or the
model card's 1+2 example in both orders (--suite card); repeated, with backoff, until it passes.
Then it judges the 1+2 example again every --recheck-seconds (one order, alternating). A failed recheck is confirmed at once by a full check before the pod turns unready. A
judgment that is late while the server is busy and generating is inconclusive: the last verdict
stands. Probes never trigger a judgment. When vLLM goes away (its port refuses connections after it
served), every verdict is forgotten: the next engine is judged from the first check on.

Endpoints:
  GET /ready        200 while the latest conclusive check passed and is fresh, /health answers
                    (3 misses in a row, or a refused connection, count), and no drain began;
                    else 503 {"ready":false,"reason":"...","kind":"..."}
  GET /live         200 while the gate runs
  GET /engine/live  503 only on evidence that vLLM's engine is stuck: requests running or
                    waiting and no generated token for --stall-seconds, or /health failing that
                    long; 200 otherwise (also before anything is known)
  GET /drain        /ready turns 503 at once; answers 200 once vLLM has nothing running or
                    waiting, or after --drain-max-seconds (for the preStop hook); only from
                    loopback (403 otherwise); resumes when vLLM restarts in the same pod
  GET /metrics      Prometheus text format (genrm_gate_*)

Options (flags win over the environment variable in brackets):
  --base-url URL            OpenAI base URL including /v1, e.g. http://127.0.0.1:5000/v1 [${GATE_ENV.baseUrl}]
  --model NAME              served model name (default ${DEFAULT_MODEL}) [${GATE_ENV.model}]
  --port N                  listen port (default ${DEFAULT_GATE_PORT}; 0 = any free port) [${GATE_ENV.port}]
  --host H                  listen address (default ${DEFAULT_GATE_HOST}) [${GATE_ENV.host}]
  --recheck-seconds N       seconds between checks (default ${DEFAULT_RECHECK_SECONDS}, minimum ${MIN_RECHECK_SECONDS}) [${GATE_ENV.recheckSeconds}]
  --timeout SECONDS         judging request timeout; a late answer on a busy, generating server is
                            awaited longer (default ${DEFAULT_GATE_REQUEST_TIMEOUT_SECONDS}) [${GATE_ENV.requestTimeoutSeconds}]
  --max-tokens N            generation budget per judgment (default ${DEFAULT_MAX_TOKENS}) [${GATE_ENV.maxTokens}]
  --stall-seconds N         no generated token this long while requests run or wait: the engine is
                            stuck (default ${DEFAULT_STALL_SECONDS}, minimum ${MIN_STALL_SECONDS}) [${GATE_ENV.stallSeconds}]
  --drain-max-seconds N     longest wait of GET /drain (default: the --timeout) [${GATE_ENV.drainMaxSeconds}]
  --suite full|card         what the first check judges: the judging suite (default; a failing
                            case is judged once more with a new seed, and one short case may still
                            disagree, named as tolerated) or the 1+2 pair in both orders [${GATE_ENV.suite}]
  --max-model-len N         the server's window (vLLM's --max-model-len, default ${CARD_MAX_MODEL_LEN}): the
                            suite's long-context case fills most of it [${GATE_ENV.maxModelLen}]
  --priority=N              vLLM request priority of the judgments (lower is first; only with vLLM's
                            --scheduling-policy priority; default: not sent) [${GATE_ENV.priority}]
  -h, --help                show this help

Time settings are at most ${MAX_TIMER_SECONDS} seconds (Node's timer limit).
The API key for /v1 is read from ${GATE_ENV.apiKey} only, and is never logged.
${GATE_ENV.allowFastRecheck}=1 lifts the lower bound of every interval; it exists for tests only.
Seeds: an engine's very first check samples at seed 1 (the card's); every retry, recheck,
confirmation and second sample draws a new seed, and each "check" line names the seed of every
judgment ("seeds"), so a failure can be replayed.
Logs: one JSON object per line on stdout ("listening", "waiting", "check", "inconclusive",
"stall", "engine", "drain", "shutdown" events).
SIGTERM or SIGINT stops the gate (exit 0), after a drain in progress.
`;
}

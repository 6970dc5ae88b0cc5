/**
 * A fake OpenAI-compatible GenRM server (node:http on 127.0.0.1, port 0 by default) that answers
 * like vLLM serving nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603, with answer shapes and faults that
 * tests switch at runtime.
 *
 * When healthy, it judges correctly in either order: it looks for which response holds "1+2=3".
 *
 * Like vLLM it has a scheduler: `slots` requests run at once (vLLM's max_num_seqs), the rest wait
 * in a FIFO queue, ordered by `priority` first (lower first) when `priorityScheduling` is on (as
 * vLLM's `--scheduling-policy priority`; a waiting request never displaces a running one, vLLM
 * issue 40004). A trainer load generator keeps requests in that queue, `/metrics` reports
 * vllm:num_requests_running / vllm:num_requests_waiting / vllm:generation_tokens_total, `/health`
 * slows while requests wait, and `stall` freezes the engine (requests run, no token advances,
 * `/health` still 200).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerJudgment, newBehaviourStats, readJson, serveTokenize, suiteOracle, vllmError, type BehaviourStats, type JudgeBehaviour } from './judge-behaviours.ts';

const suiteCases = suiteOracle();

export const FAKE_MODEL = 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603';

/** Answer shapes of a model that judges correctly. */
export const HEALTHY_MODES = [
  'plain', // thinking</think>\n\n{json}
  'fenced', // thinking</think> prose + ```json fenced block
  'reasoning-parser', // content holds only the JSON; thinking in reasoning_content
  'reasoning-field', // same, newer vLLM: thinking in `reasoning`
  'pretty', // pretty-printed multi-line JSON
  'corrected', // two objects after </think>, the last one correct
  'thinking-json', // a wrong candidate JSON inside the thinking, the right one after </think>
  'overall-nested', // {"overall": {...}}
  'numeric-strings', // {"score_1": "1", ...}
] as const;

/** Faults: each must fail the check. */
export const FAULT_MODES = [
  'wrong-verdict', // prefers the wrong response, clearly
  'slight-wrong', // prefers the wrong response slightly (ranking 3 in the card order)
  'equal-scores', // ranking right, scores equal
  'garbage', // prose, no JSON
  'truncated', // finish_reason "length", no </think>
  'null-content', // content null (reasoning parser, thinking only)
  'nan', // {"score_1": NaN, ...}
  'out-of-range', // score_2 = 7
  'missing-key', // no "ranking"
  'http-500', // HTTP 500 with a vLLM error message
  'echo-auth-500', // HTTP 500 whose message echoes the Authorization header
  'non-json', // HTTP 200 with an HTML body
  'hang', // chat completions never answer (/models and /health still do)
  'wrong-model', // /v1/models lists another model
  'health-down', // /health answers 503; the API still works
] as const;

/** Transport faults: the server misbehaves below the JSON level. */
export const TRANSPORT_FAULTS = [
  'stall-body', // 200 with headers and one byte of the body, then nothing (the connection stays open)
] as const;

export type FakeMode = (typeof HEALTHY_MODES)[number] | (typeof FAULT_MODES)[number] | (typeof TRANSPORT_FAULTS)[number];

export interface FakeGenrmOptions {
  mode?: FakeMode;
  /** The served model name. @default FAKE_MODEL */
  model?: string;
  /** When set, /v1/* requires `Authorization: Bearer <apiKey>` (401 otherwise); /health stays open. */
  apiKey?: string;
  /** Delay before each judging answer, to look like a thinking model. @default 0 */
  judgeDelayMs?: number;
  /** @default 0 (any free port) */
  port?: number;
  /** Judging beyond 1+2 (suite cases, labelled rows, a window, /tokenize); replaces `mode` when set. */
  behaviour?: JudgeBehaviour;
  /** Requests that run at once (vLLM's max_num_seqs). @default 64 */
  slots?: number;
  /** Order the queue by `priority` first, as vLLM's `--scheduling-policy priority`. @default false */
  priorityScheduling?: boolean;
  /** Delay of /health while requests wait in the queue. @default 0 */
  healthDelayUnderLoadMs?: number;
  /** Generated tokens per second per running request. @default 200 */
  tokensPerSecond?: number;
}

export interface LoadOptions {
  /** Trainer requests kept outstanding (running or waiting). */
  concurrency: number;
  /** How long one trainer request runs once it has a slot. */
  serviceMs: number;
}

export interface FakeStats {
  judgments: number;
  /** Judgments answered (not cancelled), and trainer requests finished. */
  judgmentsAnswered: number;
  trainerDone: number;
  metrics: number;
  models: number;
  health: number;
  unauthorized: number;
}

export interface RecordedRequest {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FakeGenrm {
  /** The OpenAI base, e.g. http://127.0.0.1:PORT/v1. */
  readonly baseUrl: string;
  readonly origin: string;
  readonly port: number;
  mode: FakeMode;
  apiKey: string | undefined;
  judgeDelayMs: number;
  readonly stats: FakeStats;
  /** The judging requests received, oldest first (at most the last 50). */
  readonly judgeRequests: RecordedRequest[];
  slots: number;
  priorityScheduling: boolean;
  healthDelayUnderLoadMs: number;
  /** The engine is stuck: running requests make no progress, nothing new starts, /health stays 200. */
  stall: boolean;
  /** /metrics answers 404 (a server without metrics). */
  metricsOff: boolean;
  /** Requests running now (judgments and trainer requests). */
  readonly running: number;
  /** Requests waiting for a slot. */
  readonly waiting: number;
  readonly generationTokens: number;
  /** The next `n` judgments prefer the wrong response (a sampling fluke), then the mode applies again. */
  misjudgeNext(n?: number): void;
  /** Keeps `concurrency` trainer requests outstanding until stopLoad(). */
  startLoad(options: LoadOptions): void;
  stopLoad(): void;
  /** Stops listening and drops every open connection (clients then see connection refused). */
  stop(): Promise<void>;
  /** Listens again on the same port after stop(). */
  start(): Promise<void>;
  behaviour: JudgeBehaviour | undefined;
  readonly behaviourStats: BehaviourStats;
}

const CORRECT = '1+2=3';

interface VerdictValues {
  score_1: number | string;
  score_2: number | string;
  ranking: number | string;
}

interface Job {
  priority: number;
  seq: number;
  remainingMs: number;
  trainer: boolean;
  done: () => void;
}

export async function startFakeGenrm(options: FakeGenrmOptions = {}): Promise<FakeGenrm> {
  const model = options.model ?? FAKE_MODEL;
  let server: Server | undefined;
  let port = options.port ?? 0;
  const tokensPerSecond = options.tokensPerSecond ?? 200;
  const runningJobs = new Set<Job>();
  const queue: Job[] = [];
  let seq = 0;
  let tokens = 0;
  let wrongLeft = 0;
  let load: LoadOptions | null = null;
  let outstandingTrainer = 0;
  let ticker: NodeJS.Timeout | undefined;
  let lastTick = performance.now();

  /** Starts waiting jobs while slots are free (never while stalled), in FIFO or priority order. */
  function admit(): void {
    if (fake.stall) return;
    while (runningJobs.size < fake.slots && queue.length) {
      let best = 0;
      if (fake.priorityScheduling) {
        for (let i = 1; i < queue.length; i++) {
          const a = queue[i];
          const b = queue[best];
          if (a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq)) best = i;
        }
      }
      const job = queue.splice(best, 1)[0];
      if (job.remainingMs <= 0) {
        job.done();
        continue;
      }
      runningJobs.add(job);
    }
    ensureTicker();
  }

  function tick(): void {
    const now = performance.now();
    const dt = now - lastTick;
    lastTick = now;
    if (!fake.stall) {
      for (const job of [...runningJobs]) {
        const step = Math.min(dt, job.remainingMs);
        tokens += (step * tokensPerSecond) / 1000;
        job.remainingMs -= dt;
        if (job.remainingMs <= 0) {
          runningJobs.delete(job);
          job.done();
        }
      }
    }
    topUpLoad();
    admit();
    if (runningJobs.size === 0 && queue.length === 0 && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }

  function ensureTicker(): void {
    if (ticker || (runningJobs.size === 0 && queue.length === 0)) return;
    lastTick = performance.now();
    ticker = setInterval(tick, 20);
    ticker.unref();
  }

  /** Queues a request; resolves when it finished. `cancel` removes it (the client went away). */
  function schedule(serviceMs: number, priority: number, trainer: boolean): { finished: Promise<void>; cancel: () => void } {
    let job!: Job;
    const finished = new Promise<void>((resolve) => {
      job = { priority, seq: seq++, remainingMs: serviceMs, trainer, done: resolve };
    });
    queue.push(job);
    admit();
    return {
      finished,
      cancel: () => {
        runningJobs.delete(job);
        const i = queue.indexOf(job);
        if (i >= 0) queue.splice(i, 1);
        admit();
      },
    };
  }

  function topUpLoad(): void {
    while (load && outstandingTrainer < load.concurrency) {
      outstandingTrainer++;
      void schedule(load.serviceMs, 0, true).finished.then(() => {
        outstandingTrainer--;
        fake.stats.trainerDone++;
        topUpLoad();
      });
    }
  }

  const fake: FakeGenrm = {
    get baseUrl() {
      return `http://127.0.0.1:${port}/v1`;
    },
    get origin() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    mode: options.mode ?? 'plain',
    apiKey: options.apiKey,
    judgeDelayMs: options.judgeDelayMs ?? 0,
    stats: { judgments: 0, judgmentsAnswered: 0, trainerDone: 0, metrics: 0, models: 0, health: 0, unauthorized: 0 },
    judgeRequests: [],
    behaviour: options.behaviour,
    behaviourStats: newBehaviourStats(),
    slots: options.slots ?? 64,
    priorityScheduling: options.priorityScheduling ?? false,
    healthDelayUnderLoadMs: options.healthDelayUnderLoadMs ?? 0,
    stall: false,
    metricsOff: false,
    get running() {
      return runningJobs.size;
    },
    get waiting() {
      return queue.length;
    },
    get generationTokens() {
      return Math.floor(tokens);
    },
    misjudgeNext(n = 1) {
      wrongLeft = n;
    },
    startLoad(o: LoadOptions) {
      load = o;
      topUpLoad();
    },
    stopLoad() {
      load = null;
      for (const job of [...queue]) if (job.trainer) queue.splice(queue.indexOf(job), 1);
      for (const job of [...runningJobs]) if (job.trainer) runningJobs.delete(job);
      outstandingTrainer = 0;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      s.closeAllConnections();
      await closed;
    },
    async start() {
      if (server) return;
      const s = createServer((req, res) => {
        handle(req, res).catch((err: unknown) => {
          if (!res.headersSent) sendJson(res, 500, vllmError(500, `fake server bug: ${String(err)}`));
        });
      });
      s.keepAliveTimeout = 1000;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => {
          s.off('error', reject);
          resolve();
        });
      });
      port = (s.address() as AddressInfo).port;
      server = s;
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      fake.stats.health++;
      if (fake.healthDelayUnderLoadMs > 0 && queue.length > 0) await new Promise((resolve) => setTimeout(resolve, fake.healthDelayUnderLoadMs));
      if (fake.mode === 'health-down') return sendText(res, 503, '');
      return sendText(res, 200, '');
    }
    if (path === '/tokenize' && req.method === 'POST' && fake.behaviour?.tokenize) {
      return serveTokenize(fake.behaviour, fake.behaviourStats, await readJson(req), res);
    }
    if (path === '/metrics') {
      fake.stats.metrics++;
      if (fake.metricsOff) return sendJson(res, 404, { detail: 'Not Found' });
      return sendText(res, 200, metricsText(model, runningJobs.size, queue.length, Math.floor(tokens)), 'text/plain; version=0.0.4; charset=utf-8');
    }
    if (path.startsWith('/v1/')) {
      if (fake.apiKey !== undefined && req.headers.authorization !== `Bearer ${fake.apiKey}`) {
        fake.stats.unauthorized++;
        return sendJson(res, 401, { error: 'Unauthorized' });
      }
      if (path === '/v1/models' && req.method === 'GET') {
        fake.stats.models++;
        const id = fake.mode === 'wrong-model' ? 'Qwen/Qwen3-235B-A22B-Thinking-2507' : model;
        return sendJson(res, 200, { object: 'list', data: [{ id, object: 'model', owned_by: 'vllm', root: id }] });
      }
      if (path === '/v1/chat/completions' && req.method === 'POST') {
        fake.stats.judgments++;
        const raw = await readBody(req);
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          return sendJson(res, 400, vllmError(400, 'body is not JSON'));
        }
        fake.judgeRequests.push({ headers: { ...req.headers }, body });
        if (fake.judgeRequests.length > 50) fake.judgeRequests.shift();
        return judge(req, res, body);
      }
    }
    return sendJson(res, 404, { detail: 'Not Found' });
  }

  async function judge(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const problem = requestProblem(body, model);
    if (problem) return sendJson(res, problem.status, vllmError(problem.status, problem.message));
    if (fake.behaviour) return answerJudgment(fake.behaviour, fake.behaviourStats, body, res, model);
    const messages = (body as { messages: { role: string; content: string }[] }).messages;
    const r1 = messages.find((m) => m.role === 'response_1')?.content ?? '';
    const r2 = messages.find((m) => m.role === 'response_2')?.content ?? '';
    // The judging suite's cases are judged right (the gate's first check sends them); any other
    // pair by the 1+2 rule.
    const known = suiteCases(messages);
    const secondIsRight = known !== null ? known === 2 : r2.includes(CORRECT) && !r1.includes(CORRECT);

    if (fake.mode === 'hang') return; // never answers; the client's timeout must end it
    if (fake.mode === 'stall-body') {
      // Headers and one byte of the body, then nothing: the client's own bound must end it.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{');
      return;
    }
    const priority = typeof (body as { priority?: unknown }).priority === 'number' ? (body as { priority: number }).priority : 0;
    const job = schedule(fake.judgeDelayMs, priority, false);
    const onClose = () => job.cancel();
    res.once('close', onClose);
    await job.finished;
    res.off('close', onClose);
    if (res.destroyed) return;
    fake.stats.judgmentsAnswered++;
    let mode = fake.mode;
    if (wrongLeft > 0) {
      wrongLeft--;
      mode = 'wrong-verdict';
    }
    if (mode === 'http-500') {
      return sendJson(res, 500, vllmError(500, 'CUDA error: an illegal memory access was encountered'));
    }
    if (mode === 'echo-auth-500') {
      return sendJson(res, 500, vllmError(500, `upstream rejected request with headers authorization=${req.headers.authorization ?? ''}`));
    }
    if (mode === 'non-json') return sendText(res, 200, '<html><body>502 Bad Gateway</body></html>', 'text/html');
    sendJson(res, 200, completion(mode, secondIsRight));
  }

  await fake.start();
  return fake;
}

/** vLLM's metric names and labels (`vllm/v1/metrics/loggers.py`). */
function metricsText(model: string, running: number, waiting: number, tokens: number): string {
  const labels = `{engine="0",model_name="${model}"}`;
  return [
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running${labels} ${running}.0`,
    '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting${labels} ${waiting}.0`,
    '# HELP vllm:generation_tokens_total Number of generation tokens processed.',
    '# TYPE vllm:generation_tokens_total counter',
    `vllm:generation_tokens_total${labels} ${tokens}.0`,
    '',
  ].join('\n');
}

/** vLLM-like validation of the parts of the request the protocol fixes. */
function requestProblem(body: unknown, model: string): { status: number; message: string } | null {
  if (!body || typeof body !== 'object') return { status: 400, message: 'body must be an object' };
  const b = body as Record<string, unknown>;
  if (b.model !== model) return { status: 404, message: `The model \`${String(b.model)}\` does not exist.` };
  if (!Array.isArray(b.messages)) return { status: 400, message: 'messages is required' };
  const roles = (b.messages as { role?: unknown }[]).map((m) => m?.role);
  if (roles.at(-1) !== 'response_2' || roles.at(-2) !== 'response_1') return { status: 400, message: `bad roles: ${roles.join(',')}` };
  if (b.temperature !== 0.6 || b.top_p !== 0.95) return { status: 400, message: 'the fake expects the card sampling (0.6 / 0.95)' };
  if (typeof b.max_tokens !== 'number' || typeof b.seed !== 'number') return { status: 400, message: 'max_tokens and seed are required' };
  return null;
}

function correctVerdict(secondIsRight: boolean): VerdictValues {
  return secondIsRight ? { score_1: 1, score_2: 5, ranking: 6 } : { score_1: 5, score_2: 1, ranking: 1 };
}

function wrongVerdict(secondIsRight: boolean): VerdictValues {
  return correctVerdict(!secondIsRight);
}

const THINKING = 'Okay, the user asks 1+2. One response says 4, which is wrong; the other says 3, which is right.';

function completion(mode: FakeMode, secondIsRight: boolean): unknown {
  const right = correctVerdict(secondIsRight);
  const j = (v: unknown) => JSON.stringify(v);
  let content: string | null;
  let finish = 'stop';
  let reasoning: Record<string, string> = {};
  switch (mode) {
    case 'plain':
      content = `${THINKING}\n</think>\n\n${j(right)}`;
      break;
    case 'fenced':
      content = `${THINKING}</think>\n\nHere is my judgement:\n\`\`\`json\n${JSON.stringify(right, null, 2)}\n\`\`\`\n`;
      break;
    case 'reasoning-parser':
      content = j(right);
      reasoning = { reasoning_content: `${THINKING} Draft: ${j(wrongVerdict(secondIsRight))}` };
      break;
    case 'reasoning-field':
      content = `\n\n${j(right)}`;
      reasoning = { reasoning: THINKING };
      break;
    case 'pretty':
      content = `${THINKING}</think>\n\n${JSON.stringify(right, null, 4)}\n`;
      break;
    case 'corrected':
      content = `${THINKING}</think>\n\n${j(wrongVerdict(secondIsRight))}\n\nWait, I swapped them. Corrected: ${j(right)}`;
      break;
    case 'thinking-json':
      content = `${THINKING} A first guess: ${j(wrongVerdict(secondIsRight))}. No, reconsider.</think>\n\n${j(right)}`;
      break;
    case 'overall-nested':
      content = `${THINKING}</think>\n\n${j({ overall: right })}`;
      break;
    case 'numeric-strings':
      content = `${THINKING}</think>\n\n${j({ score_1: String(right.score_1), score_2: String(right.score_2), ranking: String(right.ranking) })}`;
      break;
    case 'wrong-verdict':
      content = `${THINKING}</think>\n\n${j(wrongVerdict(secondIsRight))}`;
      break;
    case 'slight-wrong':
      content = `${THINKING}</think>\n\n${j(secondIsRight ? { score_1: 3, score_2: 2, ranking: 3 } : { score_1: 2, score_2: 3, ranking: 4 })}`;
      break;
    case 'equal-scores':
      content = `${THINKING}</think>\n\n${j({ score_1: 3, score_2: 3, ranking: secondIsRight ? 4 : 3 })}`;
      break;
    case 'garbage':
      content = `${THINKING}</think>\n\nI believe the second response is better, because 1+2 is 3.`;
      break;
    case 'truncated':
      content = `${THINKING} Let me double-check by counting on my fingers, one, two, three, and again`;
      finish = 'length';
      break;
    case 'null-content':
      content = null;
      reasoning = { reasoning_content: THINKING };
      break;
    case 'nan':
      content = `${THINKING}</think>\n\n{"score_1": NaN, "score_2": 5, "ranking": 6}`;
      break;
    case 'out-of-range':
      content = `${THINKING}</think>\n\n${j({ ...right, score_2: 7, score_1: 7 })}`;
      break;
    case 'missing-key':
      content = `${THINKING}</think>\n\n${j({ score_1: right.score_1, score_2: right.score_2 })}`;
      break;
    default:
      content = `${THINKING}</think>\n\n${j(right)}`;
  }
  return {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: FAKE_MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content, ...reasoning }, finish_reason: finish }],
    usage: { prompt_tokens: 60, completion_tokens: 400, total_tokens: 460 },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, JSON.stringify(body), 'application/json');
}

function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

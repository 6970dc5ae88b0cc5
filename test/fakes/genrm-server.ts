/**
 * A fake OpenAI-compatible GenRM server (node:http on 127.0.0.1, port 0 by default) that answers
 * like vLLM serving nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603, with answer shapes and faults that
 * tests switch at runtime.
 *
 * When healthy, it judges correctly in either order: it looks for which response holds "1+2=3".
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerJudgment, newBehaviourStats, readJson, serveTokenize, type BehaviourStats, type JudgeBehaviour } from './judge-behaviours.ts';

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

export type FakeMode = (typeof HEALTHY_MODES)[number] | (typeof FAULT_MODES)[number];

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
}

export interface FakeStats {
  judgments: number;
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

export async function startFakeGenrm(options: FakeGenrmOptions = {}): Promise<FakeGenrm> {
  const model = options.model ?? FAKE_MODEL;
  let server: Server | undefined;
  let port = options.port ?? 0;
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
    stats: { judgments: 0, models: 0, health: 0, unauthorized: 0 },
    judgeRequests: [],
    behaviour: options.behaviour,
    behaviourStats: newBehaviourStats(),
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
          if (!res.headersSent) sendJson(res, 500, { object: 'error', message: `fake server bug: ${String(err)}` });
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
      if (fake.mode === 'health-down') return sendText(res, 503, '');
      return sendText(res, 200, '');
    }
    if (path === '/tokenize' && req.method === 'POST' && fake.behaviour?.tokenize) {
      return serveTokenize(fake.behaviour, fake.behaviourStats, await readJson(req), res);
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
          return sendJson(res, 400, { object: 'error', message: 'body is not JSON', type: 'BadRequestError', code: 400 });
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
    if (problem) return sendJson(res, problem.status, { object: 'error', message: problem.message, type: 'BadRequestError', code: problem.status });
    if (fake.behaviour) return answerJudgment(fake.behaviour, fake.behaviourStats, body, res, model);
    const messages = (body as { messages: { role: string; content: string }[] }).messages;
    const r1 = messages.find((m) => m.role === 'response_1')?.content ?? '';
    const r2 = messages.find((m) => m.role === 'response_2')?.content ?? '';
    const secondIsRight = r2.includes(CORRECT) && !r1.includes(CORRECT);

    const mode = fake.mode;
    if (mode === 'hang') return; // never answers; the client's timeout must end it
    if (fake.judgeDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.judgeDelayMs));
    if (mode === 'http-500') {
      return sendJson(res, 500, { object: 'error', message: 'CUDA error: an illegal memory access was encountered', type: 'InternalServerError', code: 500 });
    }
    if (mode === 'echo-auth-500') {
      return sendJson(res, 500, { object: 'error', message: `upstream rejected request with headers authorization=${req.headers.authorization ?? ''}`, code: 500 });
    }
    if (mode === 'non-json') return sendText(res, 200, '<html><body>502 Bad Gateway</body></html>', 'text/html');
    sendJson(res, 200, completion(mode, secondIsRight));
  }

  await fake.start();
  return fake;
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

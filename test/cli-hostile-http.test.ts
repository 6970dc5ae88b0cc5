/**
 * `genrm smoke` against hostile HTTP servers (real sockets on 127.0.0.1): what the CLI prints
 * must be one clear failure (exit 1), never a stack, never a terminal escape sequence, and must
 * carry the server's own message when it sends one. (How long requests may take is tested with
 * the request timeouts; here only the output is.)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChatCompletion } from '../src/genrm/parse.ts';
import { REPO_ROOT } from './helpers/cli.ts';

const MODEL = 'nvidia/Qwen3-Nemotron-235B-A22B-GenRM-2603';
const ESCAPES = '\u001b[2J\u001b[H\u001b]0;pwned\u0007\u009b31m';
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const STACK = /\n\s+at .+:\d+:\d+|internal error|TypeError/;

type Mode = 'escapes-500' | 'escapes-models' | 'error-200' | 'huge' | 'reset' | 'stalled';
let mode: Mode = 'escapes-500';
let server: Server;
let base: string;
const sockets = new Set<Socket>();

function models(res: ServerResponse, ids = [MODEL]): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, object: 'model' })) }));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const isModels = req.url?.endsWith('/models') === true;
  switch (mode) {
    case 'escapes-500':
      if (isModels) return models(res);
      res.writeHead(500, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { message: `engine died ${ESCAPES}red text`, type: 'InternalServerError' } }));
    case 'escapes-models':
      return models(res, [`other-model${ESCAPES}`]);
    case 'error-200':
      if (isModels) return models(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: { message: 'CUDA out of memory. Tried to allocate 2.00 GiB' } }));
    case 'huge': {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x61);
      let sent = 0;
      const more = () => {
        while (sent < 12 && !res.destroyed) {
          sent++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      return more();
    }
    case 'reset':
      return void req.socket.destroy();
    case 'stalled':
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.write('{'); // one byte, then nothing
  }
}

beforeAll(async () => {
  server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

async function smoke(m: Mode, extra: string[] = []) {
  mode = m;
  const started = performance.now();
  const r = await execa('node', ['bin/genrm.mjs', 'smoke', '--base-url', base, '--timeout', '5', ...extra], {
    cwd: REPO_ROOT,
    reject: false,
    env: { GENRM_API_KEY: '' },
    timeout: 45_000,
  });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), ms: performance.now() - started };
}

/** A failed check: exit 1, one `genrm:` line on stderr, no stack, no terminal controls anywhere. */
function expectCleanFailure(r: { code?: number; stdout: string; stderr: string }): string {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr).not.toMatch(STACK);
  expect(r.stdout + r.stderr).not.toMatch(TERMINAL_CONTROL);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^genrm: smoke check failed \[[a-z_]+\]: /);
  return lines[0];
}

describe('genrm smoke against hostile servers', () => {
  it('an error message with escape sequences is printed without them', async () => {
    const line = expectCleanFailure(await smoke('escapes-500'));
    expect(line).toMatch(/HTTP 500: engine died red text/);
    const json = await smoke('escapes-500', ['--json']);
    expect(json.stdout).not.toMatch(TERMINAL_CONTROL);
    expect(JSON.parse(json.stdout).reason).toMatch(/engine died red text/);
  });

  it('the suite mode prints case reasons without them too (--suite card --json, and the summary)', async () => {
    const json = await smoke('escapes-500', ['--suite', 'card', '--json']);
    expect(json.code, json.stderr).toBe(1);
    expect(json.stdout + json.stderr).not.toMatch(TERMINAL_CONTROL);
    const doc = JSON.parse(json.stdout);
    expect(doc.cases.length).toBeGreaterThan(0);
    for (const c of doc.cases) expect(c.reason).toMatch(/engine died red text/);
    const text = await smoke('escapes-500', ['--suite', 'card']);
    expect(text.code).toBe(1);
    expect(text.stdout + text.stderr).not.toMatch(TERMINAL_CONTROL);
  });

  it('model names with escape sequences are listed without them', async () => {
    const line = expectCleanFailure(await smoke('escapes-models'));
    expect(line).toMatch(/other-model/);
  });

  it('an HTTP 200 error body reports the server\'s message', async () => {
    const line = expectCleanFailure(await smoke('error-200'));
    expect(line).toMatch(/\[bad_response\]: .*CUDA out of memory\. Tried to allocate 2\.00 GiB/);
  });

  it('a body larger than the limit is refused', async () => {
    expect(expectCleanFailure(await smoke('huge'))).toMatch(/larger than \d+ bytes/);
  });

  it('a connection reset is one line', async () => {
    expect(expectCleanFailure(await smoke('reset'))).toMatch(/\[network_error\]/);
  });

  it('a body that stalls after one byte ends within --timeout, in one line', async () => {
    const r = await smoke('stalled');
    expect(expectCleanFailure(r)).toMatch(/\[timeout\]/);
    expect(r.ms).toBeLessThan(20_000);
  });
});

describe('parseChatCompletion of an HTTP 200 error body', () => {
  it.each([
    [{ error: { message: 'CUDA out of memory' } }, /the server answered with an error instead of choices: "CUDA out of memory"/],
    [{ object: 'error', message: 'The model does not exist.', type: 'NotFoundError', code: 404 }, /"The model does not exist\."/],
    [{ error: 'overloaded' }, /"overloaded"/],
    [{ error: { code: 503 } }, /"\{\\"code\\":503\}"/],
    [{ id: 'x' }, /^the response has no choices\[0\]$/],
  ])('%j', (body, reason) => {
    const r = parseChatCompletion(body);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe('bad_response');
      expect(r.reason).toMatch(reason);
    }
  });
});

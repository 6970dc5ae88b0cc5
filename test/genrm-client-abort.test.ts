/**
 * A request whose signal is already aborted (the gate's watch or a sizing budget ended before the
 * next request started) settles as cancelled or timed out, and leaves no error unhandled: in the
 * gate, an unhandled socket error would end the process. Run in a child process so that a crash
 * shows as its exit code.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.ts';

const SCRIPT = `
import { createServer } from 'node:http';
import { request } from './src/genrm/client.ts';
const server = createServer((req, res) => res.end('{}'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = 'http://127.0.0.1:' + server.address().port + '/v1/models';
const cancelled = new AbortController();
cancelled.abort();
const a = await request('GET', url, undefined, { timeoutMs: 5000, signal: cancelled.signal });
const b = await request('GET', url, undefined, { timeoutMs: 5000, signal: AbortSignal.abort(new DOMException('late', 'TimeoutError')) });
const c = await request('GET', 'not a url', undefined, { timeoutMs: 5000, signal: new AbortController().signal });
await new Promise((resolve) => setTimeout(resolve, 300));
console.log(JSON.stringify([a.ok || a.kind, b.ok || b.kind, c.ok || c.kind]));
server.close();
`;

describe('request() with a signal aborted before it starts', () => {
  it('settles without a socket error left unhandled', async () => {
    const r = await execa('node', ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: REPO_ROOT, reject: false, timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(['cancelled', 'timeout', 'network_error']);
  });
});

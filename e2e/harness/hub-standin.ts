/**
 * A small stand-in of the Hugging Face Hub's file API on 127.0.0.1 (node:http), for the real
 * `huggingface_hub` client pointed at it with HF_ENDPOINT. It serves one model repository at one
 * commit, from a folder, with what huggingface_hub 0.36.0 reads (`_snapshot_download.py`,
 * `file_download.py`, `hf_api.py`):
 * - `GET /api/models/{repo}/revision/{rev}`: `{id, sha, siblings: [{rfilename}]}` for `main` or the
 *   commit, 404 with `X-Error-Code: RevisionNotFound` otherwise;
 * - `HEAD /{repo}/resolve/{rev}/{file}`: `X-Repo-Commit`, `ETag`, `Content-Length`;
 * - `GET` of the same: the bytes, `Range: bytes=N-` answered 206 with `Content-Range`.
 * Faults for tests: `cutAfter` (the first GET of a file sends that many bytes, then drops the
 * connection). Every request is recorded.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface HubStandin {
  endpoint: string;
  /** `METHOD path [range]` of every request, in order. */
  requests: string[];
  /** Files whose first GET is cut after this many bytes. */
  cutAfter: Map<string, number>;
  stop(): Promise<void>;
}

export async function startHubStandin(o: { repo: string; commit: string; folder: string; replace?: Record<string, Buffer> }): Promise<HubStandin> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(o.folder)) files.set(name, readFileSync(join(o.folder, name)));
  for (const [name, data] of Object.entries(o.replace ?? {})) files.set(name, data);
  const requests: string[] = [];
  const cutAfter = new Map<string, number>();
  const cutDone = new Set<string>();
  const known = (rev: string) => rev === 'main' || rev === o.commit;
  const apiPrefix = `/api/models/${o.repo}/revision/`;
  const resolvePrefix = `/${o.repo}/resolve/`;
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    requests.push(`${req.method} ${path}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const notFound = (code: string) => {
      res.writeHead(404, { 'content-type': 'application/json', 'x-error-code': code });
      res.end(JSON.stringify({ error: code }));
    };
    if (req.method === 'GET' && path.startsWith(apiPrefix)) {
      const rev = path.slice(apiPrefix.length);
      if (!known(rev)) return notFound('RevisionNotFound');
      const body = JSON.stringify({ id: o.repo, modelId: o.repo, sha: o.commit, siblings: [...files.keys()].map((rfilename) => ({ rfilename })) });
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(body);
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && path.startsWith(resolvePrefix)) {
      const [rev, ...rest] = path.slice(resolvePrefix.length).split('/');
      const name = rest.join('/');
      const data = files.get(name);
      if (!known(rev)) return notFound('RevisionNotFound');
      if (!data) return notFound('EntryNotFound');
      const headers = { 'x-repo-commit': o.commit, etag: `"${createHash('sha256').update(data).digest('hex')}"`, 'accept-ranges': 'bytes' };
      if (req.method === 'HEAD') {
        res.writeHead(200, { ...headers, 'content-length': data.length });
        return res.end();
      }
      const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
      const from = range ? Number(range[1]) : 0;
      const body = data.subarray(from);
      res.writeHead(range ? 206 : 200, { ...headers, 'content-length': body.length, ...(range ? { 'content-range': `bytes ${from}-${data.length - 1}/${data.length}` } : {}) });
      const cut = cutAfter.get(name);
      if (cut !== undefined && !cutDone.has(name)) {
        cutDone.add(name);
        res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 100));
        return;
      }
      return res.end(body);
    }
    notFound('NotFound');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    cutAfter,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

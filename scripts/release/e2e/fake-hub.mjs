// A fake Hugging Face Hub API for the pin tests, answering as huggingface.co does:
//   GET  /api/models/{owner}/{name}/revision/{rev}   -> { _id, id, sha, private, gated, ... }
//        unknown repo: 401 X-Error-Code RepoNotFound (the Hub does not tell anonymous callers
//        whether a repo exists); unknown revision: 404 RevisionNotFound; a private or gated repo
//        without the token: 401 GatedRepo; a renamed repo: 307 to its new name.
//   POST /api/models/{owner}/{name}/paths-info/{rev}  (JSON or form: paths, expand)
//        -> the entries that exist: { type, oid, size, path, lfs?: { oid, size, pointerSize } }
// `rateLimit: n` answers the next n requests of a repo with 429 and Retry-After.
import { createServer } from 'node:http';

/**
 * repos: { 'owner/name': { refs: { main: sha }, files: { path: { size, lfs?: { oid, size } } },
 * gated?, private?, token?, renamedTo?, rateLimit?, retryAfter? } }. Resolves to
 * { url, requests, close }; `requests` records each request's method, path and authorization.
 */
export function startFakeHub(repos) {
  const requests = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = new URL(req.url, 'http://x').pathname;
    requests.push({ method: req.method, path, authorization: req.headers.authorization ?? null });
    const send = (status, json, headers = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(json));
    };
    const m = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|paths-info)\/(.+)$/.exec(path);
    if (!m) return send(404, { error: 'Not Found' });
    const [, repoId, kind, revRaw] = m;
    const rev = decodeURIComponent(revRaw);
    const repo = repos[repoId];
    if (!repo)
      return send(401, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
    if (repo.renamedTo)
      return send(
        307,
        { error: 'moved' },
        { location: `/api/models/${repo.renamedTo}/${kind}/${revRaw}` },
      );
    if (repo.rateLimit > 0) {
      repo.rateLimit--;
      return send(
        429,
        { error: 'Too Many Requests' },
        { 'retry-after': String(repo.retryAfter ?? 1) },
      );
    }
    const authorized = repo.token && req.headers.authorization === `Bearer ${repo.token}`;
    if ((repo.private || repo.gated) && !authorized)
      return send(
        401,
        {
          error: `Access to model ${repoId} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
        },
        { 'x-error-code': 'GatedRepo' },
      );
    const sha =
      /^[0-9a-f]{40}$/.test(rev) && Object.values(repo.refs).includes(rev) ? rev : repo.refs[rev];
    if (!sha)
      return send(404, { error: `Invalid rev id: ${rev}` }, { 'x-error-code': 'RevisionNotFound' });
    if (kind === 'revision') {
      if (req.method !== 'GET') return send(405, { error: 'Method Not Allowed' });
      return send(200, {
        _id: '0123456789abcdef01234567',
        id: repoId,
        sha,
        private: !!repo.private,
        gated: repo.gated ?? false,
        disabled: false,
        lastModified: '2026-01-01T00:00:00.000Z',
        siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
      });
    }
    if (req.method !== 'POST') return send(405, { error: 'Method Not Allowed' });
    let paths;
    if ((req.headers['content-type'] ?? '').startsWith('application/json'))
      paths = JSON.parse(body).paths;
    else paths = new URLSearchParams(body).getAll('paths');
    if (!Array.isArray(paths)) paths = [paths];
    const files = repo.filesAt?.[sha] ?? repo.files;
    send(
      200,
      paths
        .filter((p) => files[p])
        .map((p) => ({
          type: files[p].type ?? 'file',
          oid: 'f'.repeat(40),
          size: files[p].lfs ? files[p].lfs.size : files[p].size,
          ...(files[p].lfs ? { lfs: { ...files[p].lfs, pointerSize: 134 } } : {}),
          path: p,
        })),
    );
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        requests,
        close: () => new Promise((r) => server.close(r)),
      }),
    ),
  );
}

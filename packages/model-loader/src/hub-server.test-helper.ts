import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One repository of the fake hub. */
export interface FakeRepo {
  /** Branch and tag names to commits (40 hex). */
  refs: Record<string, string>;
  /** Commits to their files (path to bytes). */
  commits: Record<string, Record<string, Uint8Array>>;
  /**
   * `private`: only `readers` see it (others get what an unknown repository gets); `gated`:
   * metadata is public, files need a token of `readers` (401 without a token, 403 with another).
   */
  access?: { kind: 'private' | 'gated'; readers: string[] };
}

/** A request as the fake hub or its CDN saw it. */
export interface HubLogEntry {
  server: 'hub' | 'cdn';
  path: string;
  status: number;
  authorization: string | undefined;
  range: string | undefined;
}

/** A commit id for tests: 40 hex digits derived from a label. */
export const commitOf = (label: string) => createHash('sha1').update(label).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * A local Hugging Face Hub that answers as the real one does (as far as the loader uses it):
 * `GET /api/models/{owner}/{repo}/revision/{revision}[?blobs=true]` with `sha` and `siblings`
 * (`lfs: { sha256, size, pointerSize }` with `blobs`); `GET /{owner}/{repo}/resolve/{revision}/
 * {path}` as a 302 to a CDN on another origin whose URL carries a signature in its query string;
 * 401 (no or an invalid token; also for a repository it will not show), 403 (a gated repository,
 * a token without access) and 404 (with `X-Error-Code`: `RepoNotFound`, `RevisionNotFound`,
 * `EntryNotFound`). Every request is logged with its `Authorization` header.
 */
export async function startFakeHub(repos: Record<string, FakeRepo>, tokens: string[] = []) {
  const log: HubLogEntry[] = [];
  const blobs = new Map<string, Uint8Array>();
  const servers: Server[] = [];
  const origins: string[] = [];
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': 'Range, Authorization',
    'Access-Control-Expose-Headers': 'Content-Range, Content-Length, X-Error-Code, X-Repo-Commit',
  };
  const index = () => {
    for (const repo of Object.values(repos))
      for (const files of Object.values(repo.commits))
        for (const bytes of Object.values(files)) blobs.set(sha256(bytes), bytes);
  };
  index();

  const hub = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry: HubLogEntry = {
      server: 'hub',
      path: decodeURIComponent(url.pathname),
      status: 0,
      authorization: req.headers.authorization,
      range: req.headers.range,
    };
    log.push(entry);
    const answer = (status: number, headers: Record<string, string>, body = '') => {
      entry.status = status;
      res.writeHead(status, { ...cors, ...headers }).end(body);
    };
    const error = (status: number, code: string | undefined, message: string) =>
      answer(
        status,
        { 'Content-Type': 'application/json', ...(code ? { 'X-Error-Code': code } : {}) },
        JSON.stringify({ error: message }),
      );
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && !tokens.includes(bearer))
      return error(401, undefined, 'Invalid credentials in Authorization header');
    const api = /^\/api\/models\/([^/]+)\/([^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const file = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const m = api ?? file;
    if (!m) return error(404, undefined, 'Not Found');
    const name = `${m[1]}/${m[2]}`;
    const repo = repos[name];
    const reader = !!bearer && !!repo?.access?.readers.includes(bearer);
    if (!repo || (repo.access?.kind === 'private' && !reader))
      return bearer
        ? error(404, 'RepoNotFound', 'Repository not found')
        : error(401, 'RepoNotFound', 'Repository not found');
    const revision = decodeURIComponent(m[3]!);
    const commit = repo.refs[revision] ?? (repo.commits[revision] ? revision : undefined);
    if (!commit) return error(404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    const files = repo.commits[commit]!;
    if (api) {
      const blobsToo = url.searchParams.get('blobs') === 'true';
      return answer(
        200,
        { 'Content-Type': 'application/json' },
        JSON.stringify({
          _id: commit.slice(0, 24),
          id: name,
          modelId: name,
          sha: commit,
          private: repo.access?.kind === 'private',
          gated: repo.access?.kind === 'gated' ? 'manual' : false,
          siblings: Object.entries(files).map(([rfilename, bytes]) =>
            blobsToo
              ? {
                  rfilename,
                  blobId: commitOf(rfilename + commit),
                  size: bytes.length,
                  lfs: { sha256: sha256(bytes), size: bytes.length, pointerSize: 135 },
                }
              : { rfilename },
          ),
        }),
      );
    }
    if (repo.access?.kind === 'gated' && !reader)
      return bearer
        ? error(
            403,
            'GatedRepo',
            `Access to model ${name} is restricted and you are not in the authorized list.`,
          )
        : error(
            401,
            'GatedRepo',
            `Access to model ${name} is restricted. You must be authenticated to access it.`,
          );
    const bytes = files[decodeURIComponent(m[4]!)];
    if (!bytes) return error(404, 'EntryNotFound', 'Entry not found');
    // LFS files redirect to the CDN with a signed URL, as the Hub does.
    return answer(302, {
      Location: `${origins[1]}/blobs/${sha256(bytes)}?X-Amz-Signature=cdnsecret123&Expires=9999999999`,
      'X-Repo-Commit': commit,
      'X-Linked-Size': String(bytes.length),
    });
  };

  const cdn = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry: HubLogEntry = {
      server: 'cdn',
      path: url.pathname,
      status: 0,
      authorization: req.headers.authorization,
      range: req.headers.range,
    };
    log.push(entry);
    const body = blobs.get(url.pathname.replace(/^\/blobs\//, ''));
    if (!body || url.searchParams.get('X-Amz-Signature') !== 'cdnsecret123') {
      entry.status = 403;
      return void res.writeHead(403, cors).end('AccessDenied');
    }
    let start = 0;
    let last = body.length - 1;
    const r = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (r) {
      start = Number(r[1]);
      if (r[2]) last = Math.min(last, Number(r[2]));
    }
    entry.status = r ? 206 : 200;
    res.writeHead(entry.status, {
      ...cors,
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(last - start + 1),
      ...(r ? { 'Content-Range': `bytes ${start}-${last}/${body.length}` } : {}),
    });
    res.end(body.subarray(start, last + 1));
  };

  for (const handler of [hub, cdn]) {
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    origins.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  return {
    /** The hub's base URL (pass as `hubBaseUrl`). */
    origin: origins[0]!,
    /** The CDN's origin (pass in `allowedOrigins`). */
    cdnOrigin: origins[1]!,
    log,
    /** Requests to the hub's API. */
    apiRequests: () => log.filter((e) => e.server === 'hub' && e.path.startsWith('/api/')),
    /** Points a branch or tag at a commit, adding the commit's files. */
    setRef(repo: string, ref: string, commit: string, files?: Record<string, Uint8Array>) {
      const r = repos[repo]!;
      if (files) r.commits[commit] = files;
      r.refs[ref] = commit;
      index();
    },
    close: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      ),
  };
}

/** The handle `startFakeHub` resolves to. */
export type FakeHub = Awaited<ReturnType<typeof startFakeHub>>;

#!/usr/bin/env node
// A small static file server for tests and local demos. It sends the headers wllama's
// multi-thread build needs (COOP/COEP) unless --no-isolation is given, answers HTTP Range
// requests (resumable downloads), and serves .wasm/.gguf with the right types.
//
//   node tools/serve-static.mjs [--root DIR] [--port N] [--host H] [--no-isolation]
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: '.' },
    port: { type: 'string', default: '4173' },
    host: { type: 'string', default: '127.0.0.1' },
    'no-isolation': { type: 'boolean', default: false },
  },
});

const root = resolve(values.root);
const isolate = !values['no-isolation'];
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.gguf': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.yaml': 'text/yaml; charset=utf-8',
};

function baseHeaders() {
  const headers = { 'Cache-Control': 'no-store', 'Accept-Ranges': 'bytes' };
  if (isolate) {
    headers['Cross-Origin-Opener-Policy'] = 'same-origin';
    headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    headers['Cross-Origin-Resource-Policy'] = 'same-origin';
  }
  return headers;
}

/** Maps a URL path to a file under root, refusing anything that escapes it. */
async function resolveFile(urlPath) {
  const decoded = decodeURIComponent(urlPath.split('?')[0] ?? '/');
  const path = normalize(join(root, decoded));
  if (path !== root && !path.startsWith(root + sep)) return null;
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      const index = join(path, 'index.html');
      return { path: index, info: await stat(index) };
    }
    return { path, info };
  } catch {
    return null;
  }
}

const server = createServer(async (req, res) => {
  const headers = baseHeaders();
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, headers).end();
    return;
  }
  const file = await resolveFile(req.url ?? '/');
  if (!file) {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
    return;
  }
  headers['Content-Type'] = TYPES[extname(file.path)] ?? 'application/octet-stream';
  const size = file.info.size;
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range && (range[1] || range[2])) {
    start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
    end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start > end || start >= size) {
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['Content-Length'] = String(end - start + 1);
  res.writeHead(status, headers);
  if (req.method === 'HEAD' || size === 0) {
    res.end();
    return;
  }
  createReadStream(file.path, { start, end }).pipe(res);
});

server.listen(Number(values.port), values.host, () => {
  console.log(
    `serving ${root} at http://${values.host}:${values.port}/ (${isolate ? 'COOP/COEP on' : 'no isolation headers'})`,
  );
});

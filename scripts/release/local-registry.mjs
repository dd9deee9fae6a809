// A local npm registry for dry runs and tests (`assemble --registry local`): the packages packed
// as `changeset publish` would upload them, kept in a folder of packuments and tarballs and
// served over HTTP shaped like registry.npmjs.org (`GET /@scope%2fname` gives
// `versions[v].dist.{tarball,integrity}`), so `assemble` takes the same code path as on npm.
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';
import { releaseVersion, step } from './lib.mjs';
import { integrityOf, packPackages } from './npm-tarballs.mjs';

/**
 * "Publishes" npm tarballs (`the-edge-agent-sdk-0.1.0.tgz`…) into a registry folder: each
 * packument records the sha512 integrity of the bytes as they are now.
 */
export function publishToFolder({ dir, tarballs, version }) {
  mkdirSync(join(dir, 'tarballs'), { recursive: true });
  for (const file of readdirSync(tarballs).filter((f) => f.endsWith('.tgz'))) {
    const name = `@the-edge-agent/${file.replace(/^the-edge-agent-/, '').replace(`-${version}.tgz`, '')}`;
    const bytes = readFileSync(join(tarballs, file));
    writeFileSync(join(dir, 'tarballs', file), bytes);
    const dist = { tarball: `{registry}/tarballs/${file}`, integrity: integrityOf(bytes) };
    writeFileSync(
      join(dir, `${name.replace('/', '%2f')}.json`),
      JSON.stringify({ name, versions: { [version]: { name, version, dist } } }, null, 2),
    );
  }
}

/**
 * Adds any npm tarball to a registry folder with the version's manifest (dependencies, peers,
 * bin) as a registry gives it, so npm and pnpm can install from the folder: e.g. the packed
 * packages and their third-party dependencies packed from the pnpm store, for offline installs.
 */
export function addToFolder({ dir, tarball }) {
  mkdirSync(join(dir, 'tarballs'), { recursive: true });
  const manifest = JSON.parse(
    execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }),
  );
  const { name, version } = manifest;
  const file = basename(tarball);
  const bytes = readFileSync(tarball);
  writeFileSync(join(dir, 'tarballs', file), bytes);
  const path = join(dir, `${name.replace('/', '%2f')}.json`);
  const doc = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : { name, versions: {} };
  const fields = ['dependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'engines'];
  doc.versions[version] = {
    name,
    version,
    ...Object.fromEntries(fields.filter((f) => manifest[f]).map((f) => [f, manifest[f]])),
    dist: { tarball: `{registry}/tarballs/${file}`, integrity: integrityOf(bytes) },
  };
  doc['dist-tags'] = { latest: version };
  writeFileSync(path, JSON.stringify(doc, null, 2));
  return { name, version };
}

/** Serves a registry folder on 127.0.0.1 (a free port); resolves to { url, close }. */
export function serveRegistry(dir) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname).slice(1);
    const url = `http://127.0.0.1:${server.address().port}`;
    const packument = join(dir, `${path.replace('/', '%2f')}.json`);
    if (!path.startsWith('tarballs/') && existsSync(packument)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(readFileSync(packument, 'utf8').replaceAll('{registry}', url));
    } else if (path.startsWith('tarballs/') && existsSync(join(dir, path))) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(readFileSync(join(dir, path)));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"Not found"}');
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((r) => server.close(r)),
      }),
    ),
  );
}

/** Packs the packages, "publishes" them into <out>/registry and serves it: { url, close }. */
export async function localRegistry(out) {
  step('Packing the npm packages into a local registry (instead of taking them from npm)');
  packPackages(join(out, 'packed'));
  publishToFolder({
    dir: join(out, 'registry'),
    tarballs: join(out, 'packed'),
    version: releaseVersion(),
  });
  return serveRegistry(join(out, 'registry'));
}

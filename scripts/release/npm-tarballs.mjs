// Build once: the tarball's lib/ is made from the npm tarballs that were published, not from a
// second pack. For each published package at the release version this downloads the tarball the
// registry serves and checks it against the registry's own `dist.integrity` (sha512, SRI)
// before anything is unpacked. The dry run goes through the same code with a local registry
// (local-registry.mjs, `assemble --registry local`) that serves what `pnpm pack` made.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGES, ROOT, run } from './lib.mjs';

/** The registry the tag job takes the packages from (`--registry` or npm's own setting). */
export const defaultRegistry = () =>
  (
    process.env.npm_config_registry ||
    process.env.NPM_CONFIG_REGISTRY ||
    'https://registry.npmjs.org'
  ).replace(/\/+$/, '');

/** `sha512-<base64>`: npm's integrity string of some bytes. */
export const integrityOf = (bytes) =>
  `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

/** The file name npm gives a package's tarball: `the-edge-agent-sdk-0.1.0.tgz`. */
export const tarballName = (name, version) =>
  `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;

async function get(url, what) {
  let response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8' },
    });
  } catch (error) {
    throw new Error(
      `${what}: ${url} could not be fetched (${error.cause?.code ?? error.message})`,
      {
        cause: error,
      },
    );
  }
  return response;
}

/**
 * Downloads `name@version` from `registry` into `dir` and checks it against the registry's
 * `dist.integrity`. Throws, naming the package, when that version is not published or the bytes
 * differ.
 */
export async function fetchPublished({ name, version, registry, dir }) {
  const what = `${name}@${version}`;
  const doc = await get(`${registry}/${name.replace('/', '%2f')}`, what);
  if (doc.status === 404)
    throw new Error(
      `${what} is not published on ${registry}: publish to npm first (RELEASING.md, step 4), then run this again`,
    );
  if (!doc.ok) throw new Error(`${what}: the registry answered ${doc.status} ${doc.statusText}`);
  const dist = (await doc.json()).versions?.[version]?.dist;
  if (!dist)
    throw new Error(
      `${what} is not published on ${registry} (other versions are): publish to npm first (RELEASING.md, step 4), then run this again`,
    );
  if (!/^sha512-/.test(dist.integrity ?? ''))
    throw new Error(`${what}: the registry gives no sha512 integrity for its tarball`);
  const response = await get(dist.tarball, what);
  if (!response.ok)
    throw new Error(`${what}: its tarball ${dist.tarball} answered ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  const integrity = integrityOf(bytes);
  if (integrity !== dist.integrity)
    throw new Error(
      `${what}: the downloaded tarball's integrity ${integrity} is not the registry's ${dist.integrity}: refusing to build the release from it`,
    );
  const file = tarballName(name, version);
  writeFileSync(join(dir, file), bytes);
  return { name, version, file, integrity, bytes: bytes.length, tarball: dist.tarball };
}

/** Every published package of the release, downloaded and verified into `dir`. */
export async function fetchPublishedPackages({ version, registry, dir }) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const fetched = [];
  for (const pkg of PACKAGES) {
    const got = await fetchPublished({ name: `@the-edge-agent/${pkg}`, version, registry, dir });
    console.log(
      `    ${got.file}: ${got.bytes} bytes, ${got.integrity.slice(0, 23)}… matches ${registry}`,
    );
    fetched.push(got);
  }
  return fetched;
}

/** Packs every published package with `pnpm pack`, what `changeset publish` uploads (dry run). */
export function packPackages(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const name of PACKAGES)
    run('pnpm', ['pack', '--pack-destination', dir], { cwd: join(ROOT, 'packages', name) });
  const files = readdirSync(dir);
  for (const name of PACKAGES)
    if (!files.some((f) => f.startsWith(`the-edge-agent-${name}-`)))
      throw new Error(`pnpm pack wrote no tarball for ${name}`);
  return files;
}

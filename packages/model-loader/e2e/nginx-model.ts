import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTinyLlama } from '@the-edge-agent/test-fixtures';

// The publisher's side of the nginx suite: a small model written as files into nginx's site
// folder, with a manifest whose block hashes and percent-encoded file names are what
// `tea-model pack` writes, in versions at the same URLs (a site updating its model in place).

/** Block size of the manifests' block hashes (the loader's smallest): also the segment size. */
export const BLOCK = 64 * 1024;
/** The built `tea-model` CLI. */
const CLI = join(dirname(fileURLToPath(import.meta.url)), '../dist/cli/main.js');

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** `n` chunks of a few hundred KB of random bytes (not a multiple of the block). */
export const randomChunks = (n: number, size = 300_000) =>
  Array.from({ length: n }, (_, i) => new Uint8Array(randomBytes(size + i * 7919)));

/** One published version. */
export interface Published {
  /** The folder under the site, e.g. `slow/m2`. */
  dir: string;
  id: string;
  version: string;
  /** File names as on disk. */
  names: string[];
  chunks: Uint8Array[];
  totalBytes: number;
  hashes: string[];
}

/** Block hashes as `tea-model pack` writes them. */
const blocksOf = (data: Uint8Array) => ({
  bytes: BLOCK,
  sha256: Array.from({ length: Math.ceil(data.length / BLOCK) }, (_, k) =>
    sha256(data.subarray(k * BLOCK, (k + 1) * BLOCK)),
  ),
});

/**
 * Writes `chunks` under `site/dir` as `names` (default `c0.bin`, …) and `manifest.json` listing
 * them (`file` percent-encoded, as pack writes names; `urlOf(file)` adds an absolute `url`, e.g.
 * a signed one). `blocks: false` leaves the block hashes out.
 */
export function publish(
  site: string,
  p: {
    dir: string;
    id?: string;
    version?: string;
    chunks: Uint8Array[];
    names?: string[];
    blocks?: boolean;
    urlOf?: (file: string) => string;
    write?: boolean;
    /** The manifest's mtime in seconds, fixed (as reproducible builds deploy files). */
    manifestMtime?: number;
  },
): Published {
  const names = p.names ?? p.chunks.map((_, i) => `c${i}.bin`);
  const id = p.id ?? p.dir.replace(/\W/g, '-');
  const version = p.version ?? '1';
  mkdirSync(join(site, p.dir), { recursive: true });
  if (p.write !== false) p.chunks.forEach((c, i) => writeFileSync(join(site, p.dir, names[i]!), c));
  const totalBytes = p.chunks.reduce((s, c) => s + c.length, 0);
  const manifest = {
    manifestVersion: 1,
    model: { id, version },
    layout: 'gguf-split',
    totalBytes,
    chunks: p.chunks.map((c, i) => {
      const file = encodeURIComponent(names[i]!);
      return {
        file,
        ...(p.urlOf ? { url: p.urlOf(file) } : {}),
        bytes: c.length,
        sha256: sha256(c),
        ...(p.blocks === false ? {} : { blocks: blocksOf(c) }),
      };
    }),
  };
  writeManifest(
    join(site, p.dir, 'manifest.json'),
    JSON.stringify(manifest, null, 2),
    p.manifestMtime,
  );
  return {
    dir: p.dir,
    id,
    version,
    names,
    chunks: p.chunks,
    totalBytes,
    hashes: p.chunks.map(sha256),
  };
}

/**
 * Writes a manifest dated `mtime`, or at least 2 s after the one it replaces: nginx's `ETag` is
 * the file's mtime in seconds and its size, so a manifest re-published within the same second
 * (or with a fixed mtime) at the same size keeps its validators.
 */
function writeManifest(path: string, text: string, mtime?: number): void {
  const before = existsSync(path) ? statSync(path).mtimeMs / 1000 : 0;
  writeFileSync(path, text);
  const t = mtime ?? Math.max(Date.now() / 1000, before + 2);
  utimesSync(path, t, t);
}

/** Replaces file `i` of `m` on disk with `data`, dated `ahead` s later (a new nginx `ETag`). */
export function replaceChunk(site: string, m: Published, i: number, data: Uint8Array, ahead = 5) {
  const path = join(site, m.dir, m.names[i]!);
  writeFileSync(path, data);
  const t = Date.now() / 1000 + ahead;
  utimesSync(path, t, t);
}

/** `chunks` with chunk `i` replaced by other random bytes (of `size`, default the same). */
export const withNewChunk = (chunks: Uint8Array[], i: number, size = chunks[i]!.length) =>
  chunks.map((c, k) => (k === i ? randomChunks(1, size)[0]! : c));

/**
 * A tiny llama GGUF named `name` packed by the built `tea-model pack` into `site/dir` (shards
 * under `maxChunk`, 64 KiB block hashes), as a publisher would.
 */
export async function packTinyLlama(
  site: string,
  dir: string,
  name: string,
  maxChunk: string,
): Promise<Published> {
  const tmp = mkdtempSync(join(tmpdir(), 'tea-pack-'));
  const out = join(site, dir);
  try {
    const gguf = join(tmp, name);
    await writeTinyLlama(gguf);
    const args = ['pack', gguf, '--out', out, '--max-chunk-size', maxChunk, '--block-size', '64K'];
    execFileSync(process.execPath, [CLI, ...args], { stdio: 'pipe' });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
    model: { id: string; version: string };
    totalBytes: number;
    chunks: { file: string; sha256: string }[];
  };
  const names = manifest.chunks.map((c) => decodeURIComponent(c.file));
  return {
    dir,
    id: manifest.model.id,
    version: manifest.model.version,
    names,
    chunks: names.map((n) => new Uint8Array(readFileSync(join(out, n)))),
    totalBytes: manifest.totalBytes,
    hashes: manifest.chunks.map((c) => c.sha256),
  };
}

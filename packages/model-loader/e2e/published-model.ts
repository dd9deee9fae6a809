import { createHash } from 'node:crypto';
import { createRng, createWordStream, type FaultServer } from '@the-edge-agent/test-fixtures';

// The publisher's side of the fault-sequence test: a small multi-chunk model on the fault server,
// published in versions (chunks re-packed at the same URL, or under new names; block hashes on or
// off; a rollback), always behind one manifest URL, as a site that updates its model in place.

export const MODEL_ID = 'seq';
export const MANIFEST_PATH = `${MODEL_ID}/manifest.json`;
/** Block size of manifests with block hashes (the loader's smallest); also the segment size. */
export const BLOCK = 64 * 1024;

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * A secret that stands for a signature: every URL of the model carries it in its query string
 * (the manifest's and each chunk's, as pre-signed object-store URLs do), and no message, `url`
 * field, progress event or console line may ever show it.
 */
export const URL_SECRET = 'S1gn4tur3-s3cr3t';
/**
 * Page-script code (for a test page's module script) that defines `leaksOf(texts)` (the texts
 * that show the URL secret, cut to 300 characters) and `errorTexts(e)` (everything an error
 * shows a developer: its text, stack, own fields and causes).
 */
export const LEAK_CHECK_SCRIPT = `
  const SECRET = '${URL_SECRET}';
  const errorTexts = (e, depth = 0) => {
    if (e === undefined || e === null || depth > 4) return [];
    const own = {};
    if (typeof e === 'object') for (const k of Object.getOwnPropertyNames(e)) { try { own[k] = String(e[k]); } catch {} }
    return [String(e), e?.stack ?? '', JSON.stringify(own), ...errorTexts(e?.cause, depth + 1)];
  };
  const leaksOf = (texts) => texts.filter((t) => typeof t === 'string' && t.includes(SECRET)).map((t) => t.slice(0, 300));
`;

/** The query string of a pre-signed URL (S3's shape and a token, both carrying the secret). */
export const SIGNED_QUERY = `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20261206&X-Amz-Signature=${URL_SECRET}&token=${URL_SECRET}`;

/** One chunk of a published version. */
export interface PublishedChunk {
  /** Path on the fault server (and the manifest's `file`, relative to the manifest). */
  path: string;
  data: Uint8Array;
  sha256: string;
}

/** One published version of the model. */
export interface PublishedVersion {
  /** The manifest's `model.version`. */
  version: string;
  chunks: PublishedChunk[];
  /** Whether the manifest lists block hashes. */
  blocks: boolean;
  totalBytes: number;
}

/** Seeded bytes: the same seed and stream give the same chunk on every machine. */
function bytesOf(seed: number, stream: number, size: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4));
  createWordStream(seed, stream).fill(words);
  return new Uint8Array(words.buffer, 0, size);
}

/**
 * The manifest text of `v`: chunk files relative to the manifest, each with its signed URL
 * (`urlOf(path)`) in `url` when given.
 */
export function manifestOf(v: PublishedVersion, urlOf?: (path: string) => string): string {
  return JSON.stringify({
    manifestVersion: 1,
    model: { id: MODEL_ID, version: v.version },
    layout: 'gguf-split',
    totalBytes: v.totalBytes,
    chunks: v.chunks.map((c) => ({
      file: c.path.slice(MODEL_ID.length + 1),
      ...(urlOf ? { url: urlOf(c.path) } : {}),
      bytes: c.data.length,
      sha256: c.sha256,
      ...(v.blocks
        ? {
            blocks: {
              bytes: BLOCK,
              sha256: Array.from({ length: Math.ceil(c.data.length / BLOCK) }, (_, k) =>
                sha256(c.data.subarray(k * BLOCK, (k + 1) * BLOCK)),
              ),
            },
          }
        : {}),
    })),
  });
}

/** How a new version differs from the current one. */
export type BumpKind =
  /** A new version; some chunks re-packed with new bytes at the same URL (sizes may change). */
  | 'repack'
  /** A new version; some chunks under new file names (the old files stay on the server). */
  | 'rename'
  /** The same version string, some chunks re-packed at the same URL (a publisher's mistake). */
  | 'same-version'
  /** The same version and bytes; the manifest gains or loses its block hashes. */
  | 'blocks'
  /** Back to the version before this one (its bytes at the same URLs again). */
  | 'rollback';

/**
 * The model as published on `server`: `versions` in order, the last one live. `publish` writes a
 * version's chunks and manifest to the server (re-packing what changed at the same URL).
 */
export class Publisher {
  readonly versions: PublishedVersion[] = [];
  private stream = 0;
  private counter = 1;
  /** Sizes of re-packed chunks: drawn only by bumps, so a replay with the same bumps matches. */
  private readonly rng: () => number;

  constructor(
    private readonly server: FaultServer,
    private readonly seed: number,
    chunks: number,
    blocks: boolean,
  ) {
    this.rng = createRng(seed ^ 0x5eed);
    const first: PublishedChunk[] = [];
    for (let i = 0; i < chunks; i++) first.push(this.chunk(`${MODEL_ID}/c${i}.bin`, this.size()));
    this.publish({
      version: '1',
      chunks: first,
      blocks,
      totalBytes: first.reduce((s, c) => s + c.data.length, 0),
    });
  }

  get current(): PublishedVersion {
    return this.versions.at(-1)!;
  }

  /** Every chunk path any version used (the bytes counted as model traffic). */
  get paths(): string[] {
    return [...new Set(this.versions.flatMap((v) => v.chunks.map((c) => c.path)))];
  }

  /** A chunk size of a few hundred KB, not a multiple of the block (a short last block). */
  private size(): number {
    return 150_000 + Math.floor(this.rng() * 180_000);
  }

  private chunk(path: string, size: number): PublishedChunk {
    const data = bytesOf(this.seed, ++this.stream, size);
    return { path, data, sha256: sha256(data) };
  }

  private publish(v: PublishedVersion): void {
    for (const c of v.chunks) this.server.repack(c.path, c.data);
    this.server.repack(
      MANIFEST_PATH,
      manifestOf(v, (path) => this.server.url(path) + SIGNED_QUERY),
    );
    this.versions.push(v);
  }

  /**
   * Publishes the next version (`which` picks the chunks a `repack`, `rename` or `same-version`
   * changes, as indices; `resize` gives them new sizes). Returns the chunk paths whose bytes
   * changed at the same URL.
   */
  bump(kind: BumpKind, which: number[], resize: boolean): string[] {
    const now = this.current;
    if (kind === 'rollback') {
      const before = this.versions.at(-2);
      if (!before) return [];
      const changed = before.chunks
        .filter((c) => {
          const live = this.versions
            .flatMap((v) => v.chunks)
            .filter((x) => x.path === c.path)
            .at(-1);
          return live && live.sha256 !== c.sha256;
        })
        .map((c) => c.path);
      this.publish({ ...before });
      return changed;
    }
    if (kind === 'blocks') {
      this.publish({ ...now, blocks: !now.blocks });
      return [];
    }
    const picked = new Set(which.map((i) => i % now.chunks.length));
    const chunks = now.chunks.map((c, i) => {
      if (!picked.has(i)) return c;
      const size = resize ? this.size() : c.data.length;
      const path = kind === 'rename' ? `${MODEL_ID}/v${this.counter + 1}-c${i}.bin` : c.path;
      return this.chunk(path, size);
    });
    const version = kind === 'same-version' ? now.version : String(++this.counter);
    this.publish({
      version,
      chunks,
      blocks: now.blocks,
      totalBytes: chunks.reduce((s, c) => s + c.data.length, 0),
    });
    return kind === 'rename' ? [] : chunks.filter((_, i) => picked.has(i)).map((c) => c.path);
  }
}

import { createHash, type Hash } from 'node:crypto';
import type { ChunkBlocks } from '../manifest.js';

/**
 * Default block of a packed chunk's block hashes: the loader's segment size (each chunk in
 * flight holds one block in memory to hash it).
 */
export const DEFAULT_BLOCK_BYTES = 4 * 2 ** 20;

/**
 * SHA-256 of a file written or read in pieces, and of each `blockBytes` block of it (the
 * manifest's `blocks`), in one pass.
 */
export class FileHashes {
  private readonly whole = createHash('sha256');
  private block: Hash = createHash('sha256');
  private inBlock = 0;
  private readonly blocks: string[] = [];
  bytes = 0;

  constructor(private readonly blockBytes: number) {}

  update(piece: Uint8Array): void {
    this.whole.update(piece);
    this.bytes += piece.byteLength;
    let rest = piece;
    while (rest.byteLength > 0) {
      const now = rest.subarray(0, this.blockBytes - this.inBlock);
      this.block.update(now);
      this.inBlock += now.byteLength;
      rest = rest.subarray(now.byteLength);
      if (this.inBlock === this.blockBytes) this.endBlock();
    }
  }

  private endBlock(): void {
    this.blocks.push(this.block.digest('hex'));
    this.block = createHash('sha256');
    this.inBlock = 0;
  }

  /** The file's SHA-256 and its block hashes (call once, after the last piece). */
  digest(): { sha256: string; blocks: ChunkBlocks } {
    if (this.inBlock > 0) this.endBlock();
    return {
      sha256: this.whole.digest('hex'),
      blocks: { bytes: this.blockBytes, sha256: this.blocks },
    };
  }
}

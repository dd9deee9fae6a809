/**
 * A chunk received in segments: their total size, and (when the caller keeps them) the segments
 * as Blobs. A download that persists its segments in a store does not keep them: the store
 * holds them, and nothing of a multi-GB model stays alive in the page.
 */
export class Segments {
  private parts: Blob[] = [];
  size = 0;

  constructor(private readonly keep: boolean) {}

  add(blob: Blob): void {
    if (blob.size === 0) return;
    if (this.keep) this.parts.push(blob);
    this.size += blob.size;
  }

  /** The chunk: its one segment, or the segments joined (a list of parts, not a copy). */
  toBlob(): Blob {
    const only = this.parts[0];
    return this.parts.length === 1 && only ? only : new Blob(this.parts);
  }

  reset(): void {
    this.parts = [];
    this.size = 0;
  }
}

/**
 * Collects streamed bytes into a Blob in parts: every `partBytes` the buffered pieces become a
 * Blob and the JS buffers are dropped, so the JS heap holds at most one part at a time (browsers
 * may page Blob data to disk).
 */
export class BlobBuilder {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private parts: Blob[] = [];
  size = 0;

  constructor(private readonly partBytes = 8 * 1024 * 1024) {}

  append(bytes: Uint8Array): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.byteLength;
    this.size += bytes.byteLength;
    if (this.pendingBytes >= this.partBytes) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(new Blob(this.pending as BlobPart[]));
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The bytes appended so far, as one Blob. */
  toBlob(type = 'application/octet-stream'): Blob {
    this.flush();
    return new Blob(this.parts, { type });
  }

  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.parts = [];
    this.size = 0;
  }
}

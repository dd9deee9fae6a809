/** What `SegmentReader.next` read: the Blob, and why the body stopped early, if it did. */
export interface DrainedBody {
  blob: Blob;
  /** The read error that ended the body early (connection lost, idle timeout, abort). */
  error?: unknown;
  /** The body ended (no more bytes will come from this response). */
  ended: boolean;
}

/**
 * Reads a response body in segments of at most `limit` bytes, each a Blob that the browser
 * builds itself (`new Response(stream).blob()`), passing each piece to `onPiece` first
 * (hashing, progress, idle timer). The browser pages such Blobs to disk; Blobs assembled in JS
 * from many small parts fail to store in IndexedDB once about 0.5 GB of them are alive in
 * Chromium (`DataError: Failed to write blobs (InvalidBlob)`). A piece that crosses a segment's
 * end is split; a read error ends the segment where the data stopped instead of losing it, so the
 * caller can keep it and resume with a Range request.
 */
export class SegmentReader {
  private leftover: Uint8Array | undefined;
  private ended = false;

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly onPiece: (piece: Uint8Array) => void,
  ) {}

  async next(limit: number): Promise<DrainedBody> {
    let error: unknown;
    let received = 0;
    const take = (piece: Uint8Array, controller: ReadableStreamDefaultController<Uint8Array>) => {
      const room = limit - received;
      const now = piece.byteLength > room ? piece.subarray(0, room) : piece;
      if (piece.byteLength > room) this.leftover = piece.subarray(room);
      received += now.byteLength;
      this.onPiece(now);
      controller.enqueue(now);
    };
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (received >= limit) return controller.close();
        if (this.leftover) {
          const piece = this.leftover;
          this.leftover = undefined;
          take(piece, controller);
          return;
        }
        if (this.ended) return controller.close();
        try {
          const { done, value } = await this.reader.read();
          if (done) {
            this.ended = true;
            return controller.close();
          }
          take(value, controller);
        } catch (cause) {
          error = cause;
          this.ended = true;
          controller.close();
        }
      },
    });
    const blob = await new Response(body).blob();
    return {
      blob,
      ended: this.ended && !this.leftover,
      ...(error !== undefined ? { error } : {}),
    };
  }

  /** Gives the body back (cancelling what was not read). */
  async cancel(): Promise<void> {
    this.leftover = undefined;
    await this.reader.cancel().catch(() => undefined);
  }
}

/** A chunk received in one or more segments (more than one after a resumed download). */
export class Segments {
  private parts: Blob[] = [];
  size = 0;

  add(blob: Blob): void {
    if (blob.size === 0) return;
    this.parts.push(blob);
    this.size += blob.size;
  }

  /** The chunk: its one segment as the browser built it, or the segments joined. */
  toBlob(): Blob {
    const only = this.parts[0];
    return this.parts.length === 1 && only ? only : new Blob(this.parts);
  }

  reset(): void {
    this.parts = [];
    this.size = 0;
  }
}

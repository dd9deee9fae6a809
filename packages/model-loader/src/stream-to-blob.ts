/** What `streamToBlob` read: the Blob, and why it stopped early, if it did. */
export interface DrainedBody {
  blob: Blob;
  /** The read error that ended the body early (connection lost, abort). */
  error?: unknown;
  /** The body went past `limit` bytes (the rest was not read). */
  overflow: boolean;
}

/**
 * Reads a response body into a Blob that the browser builds itself (`new Response(stream).blob()`),
 * passing each piece to `onPiece` first (hashing, progress). The browser pages such Blobs to
 * disk; Blobs assembled in JS from many small parts fail to store in IndexedDB once about
 * 0.5 GB of them are alive in Chromium (`DataError: Failed to write blobs (InvalidBlob)`).
 * A read error ends the Blob where the data stopped instead of losing it, so the caller can
 * resume with a Range request.
 */
export async function streamToBlob(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  limit: number,
  onPiece: (piece: Uint8Array) => void,
): Promise<DrainedBody> {
  let error: unknown;
  let overflow = false;
  let received = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        if (received + value.byteLength > limit) {
          overflow = true;
          return controller.close();
        }
        received += value.byteLength;
        onPiece(value);
        controller.enqueue(value);
      } catch (cause) {
        error = cause;
        controller.close();
      }
    },
  });
  const blob = await new Response(body).blob();
  return { blob, overflow, ...(error !== undefined ? { error } : {}) };
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

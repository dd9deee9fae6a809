/** The validators of one version of a file. */
export interface FileVersion {
  data: Uint8Array;
  etag: string;
  /** Whole seconds (HTTP dates have no finer resolution). */
  lastModified: number;
  gzipped?: Uint8Array;
}

/** The versions of a set of files: new validators whenever a file's bytes are replaced. */
export class FileVersions {
  private readonly served = new Map<string, FileVersion>();
  private generation = 0;
  private lastStamp = 0;

  constructor(readonly files: Record<string, Uint8Array | string>) {}

  /** The version of `path` being served (undefined for a missing file). */
  of(path: string): FileVersion | undefined {
    const raw = this.files[path];
    if (raw === undefined) return undefined;
    const data = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
    const known = this.served.get(path);
    if (known && (known.data === raw || (typeof raw === 'string' && sameBytes(known.data, data))))
      return known;
    // A later version is always at least a second newer, so that If-Modified-Since and a
    // Last-Modified in If-Range see the change.
    this.lastStamp = Math.max(Math.floor(Date.now() / 1000), this.lastStamp + 1);
    const version: FileVersion = {
      data: typeof raw === 'string' ? data : raw,
      etag: `"${(++this.generation).toString(36)}-${data.length.toString(36)}"`,
      lastModified: this.lastStamp,
    };
    this.served.set(path, version);
    return version;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

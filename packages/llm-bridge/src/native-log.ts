/** Where the bridge sends wllama's log lines (defaults to nowhere but errors). */
export interface BridgeLogger {
  debug(...args: unknown[]): void;
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

const ERROR_LINE = /error|exception|failed|not found|abort|out of memory|bad_alloc/i;
const MODEL_BUFFER = /load_tensors:\s+(\S+) model buffer size/;
// ggml's allocation failures: `ggml_aligned_malloc: insufficient memory (attempted to allocate
// 4612.01 MB)` and `... failed to allocate CPU buffer of size 4836000000`.
const ALLOC_MB = /insufficient memory \(attempted to allocate ([\d.]+) MB\)/;
const ALLOC_BYTES = /failed to allocate \S+ buffer of size (\d+)/;
const silent = () => undefined;

/** Whether a llama.cpp backend name is a CPU one (`CPU`, `CPU_Mapped`, `CPU_REPACK`, ...). */
export function isCpuDevice(name: string): boolean {
  return /^CPU/i.test(name);
}

/** Default logger: drops debug/info, keeps warnings and errors on the console. */
export const quietLogger: BridgeLogger = {
  debug: silent,
  log: silent,
  warn: (...args) => console.warn(...args),
  error: (...args) => console.error(...args),
};

/**
 * Wraps a logger and remembers the last line that looks like an error. C++ exceptions in
 * wllama's worker reach JS only as a garbage-length RangeError; their text reaches only the
 * native log, so the bridge reads it from here to write a useful error.
 */
export class NativeLogTap {
  private last: string | undefined;
  private devices = new Set<string>();
  private allocationBytes: number | undefined;
  readonly logger: BridgeLogger;

  constructor(inner: BridgeLogger) {
    const tap =
      (level: keyof BridgeLogger) =>
      (...args: unknown[]) => {
        // wllama logs some errors as objects ({ code, message, type }): keep their text.
        const line = args
          .map((a) =>
            a !== null &&
            typeof a === 'object' &&
            typeof (a as { message?: unknown }).message === 'string'
              ? (a as { message: string }).message
              : String(a),
          )
          .join(' ');
        if (level === 'error' || ERROR_LINE.test(line)) this.last = line.trim().slice(0, 300);
        const mb = ALLOC_MB.exec(line);
        const bytes = ALLOC_BYTES.exec(line);
        if (mb?.[1]) this.allocationBytes = Math.round(Number(mb[1]) * 2 ** 20);
        else if (bytes?.[1]) this.allocationBytes = Number(bytes[1]);
        const buffer = MODEL_BUFFER.exec(line);
        if (buffer?.[1]) this.devices.add(buffer[1]);
        inner[level](...args);
      };
    this.logger = { debug: tap('debug'), log: tap('log'), warn: tap('warn'), error: tap('error') };
  }

  /**
   * The backends llama.cpp placed model weights on since the previous call (from its
   * `load_tensors: <device> model buffer size` lines), then forgets them.
   */
  takeWeightDevices(): string[] {
    const devices = [...this.devices];
    this.devices.clear();
    return devices;
  }

  /**
   * The size of the allocation llama.cpp failed since the previous call (from its log), as
   * `{ allocationBytes }`, or `{}`; then forgets it.
   */
  takeAllocationFailure(): { allocationBytes?: number } {
    const allocationBytes = this.allocationBytes;
    this.allocationBytes = undefined;
    return allocationBytes === undefined ? {} : { allocationBytes };
  }

  /** The last error-looking line since the previous call, then forgets it. */
  take(): string | undefined {
    const line = this.last;
    this.last = undefined;
    return line;
  }
}

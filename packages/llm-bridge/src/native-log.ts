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

let warnings = 0;
let summarised = false;

/**
 * Default logger: quiet. llama.cpp's info and warning lines (e.g. "No available adapters.",
 * `n_ctx_seq > n_ctx_train`) are counted, not printed; errors go to the console. Pass
 * `logger: console` to see everything.
 */
export const quietLogger: BridgeLogger = {
  debug: silent,
  log: silent,
  warn: () => void warnings++,
  error: (...args) => console.error(...args),
};

/** Once per page, at debug level: how many llama.cpp warnings the quiet logger held back. */
export function summariseQuietWarnings(): void {
  if (summarised || warnings === 0) return;
  summarised = true;
  // Debug level on purpose: visible with the console's "Verbose" level, not in everyone's face.
  // eslint-disable-next-line no-console
  console.debug(
    `[tea] llama.cpp logged ${warnings} warning(s) while loading; pass { logger: console } to see them`,
  );
}

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

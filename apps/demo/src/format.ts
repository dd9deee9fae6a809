/** `1.5 MiB` */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** One line for the download/load progress: bytes, speed and time left. */
export function progressLine(p: {
  phase: string;
  loadedBytes?: number;
  totalBytes?: number;
  bytesPerSecond?: number;
  etaSeconds?: number | null;
  fromCache?: boolean;
  id?: string;
  mode?: string;
  fallbackFrom?: string;
}): string {
  if (p.phase === 'profile')
    return `${p.fallbackFrom ? `${p.fallbackFrom} did not fit in memory; trying` : 'Using profile'} ${p.id} (${p.mode === 'webgpu' ? 'WebGPU offload' : 'CPU only'})`;
  if (p.phase === 'ready')
    return p.fromCache ? 'Ready (loaded from the IndexedDB cache, no download)' : 'Ready';
  const done = `${formatBytes(p.loadedBytes ?? 0)} / ${formatBytes(p.totalBytes ?? 0)}`;
  if (p.phase === 'load') return `Loading the model into wllama… ${done}`;
  const speed = p.bytesPerSecond ? ` · ${formatBytes(p.bytesPerSecond)}/s` : '';
  const eta = p.etaSeconds != null ? ` · about ${Math.ceil(p.etaSeconds)} s left` : '';
  return `${p.fromCache ? 'Reading from cache' : 'Downloading and verifying'} ${done}${speed}${eta}`;
}

/** A workflow error in plain words, with its YAML position and node when known. */
export function errorLine(error: unknown): string {
  const e = error as { code?: string; message?: string; node?: string };
  const message = e?.message ?? String(error);
  return e?.code ? `${e.code}: ${message}` : message;
}

// One unit system on every screen: decimal bytes (1 MB = 1,000,000 bytes), as the sdk's
// preflight and the storage estimate use.

/** `512 B`, `0.53 MB`, `12.4 MB`, `4.84 GB` (decimal units). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  if (bytes < 1e9) {
    const mb = bytes / 1e6;
    return `${mb.toFixed(mb < 10 ? 2 : 1)} MB`;
  }
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

/** `3 s`, `2 min 5 s`, `1 h 4 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** `just now`, `5 minutes ago`, `3 hours ago`, or the date for older times. */
export function formatAgo(time: number, now = Date.now()): string {
  const s = Math.round((now - time) / 1000);
  if (s < 60) return 'just now';
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'} ago`;
  if (s < 3600) return plural(Math.floor(s / 60), 'minute');
  if (s < 86_400) return plural(Math.floor(s / 3600), 'hour');
  if (s < 7 * 86_400) return plural(Math.floor(s / 86_400), 'day');
  return new Date(time).toLocaleDateString('en', { dateStyle: 'medium' });
}

/** The fields of the sdk's `TeaProgress` this page reads (every phase's, all optional). */
export interface ProgressLike {
  phase: string;
  fraction?: number;
  loadedBytes?: number;
  totalBytes?: number;
  bytesPerSecond?: number;
  etaSeconds?: number | null;
  fromCache?: boolean;
  otherTab?: boolean;
  id?: string;
  fallbackFrom?: string;
}

/** The one line under the progress bar: what is happening, how far, how long. */
export function progressLine(p: ProgressLike): string {
  if (p.phase === 'profile')
    return p.fallbackFrom
      ? `${p.fallbackFrom} did not fit in memory; trying ${p.id}…`
      : `Preparing ${p.id}…`;
  if (p.phase === 'waiting') return 'Another tab is downloading this model; waiting for it…';
  if (p.phase === 'ready')
    return p.fromCache ? 'Ready. Loaded from this browser’s storage, no download.' : 'Ready.';
  const done = `${formatBytes(p.loadedBytes ?? 0)} of ${formatBytes(p.totalBytes ?? 0)}`;
  if (p.phase === 'load') return `Loading the model into memory… ${done}`;
  if (p.fromCache && !p.bytesPerSecond) return `Reading the model from storage… ${done}`;
  const speed = p.bytesPerSecond ? ` · ${formatBytes(p.bytesPerSecond)}/s` : '';
  const eta = p.etaSeconds != null ? ` · about ${formatDuration(p.etaSeconds)} left` : '';
  return `Downloading and checking… ${done}${speed}${eta}`;
}

/** An error in plain words: the code, then the message (with its YAML position when known). */
export function errorLine(error: unknown): string {
  const e = error as { code?: string; message?: string; hint?: string };
  const message = e?.message ?? String(error);
  const line = e?.code ? `${e.code}: ${message}` : message;
  return e?.hint && !message.includes(e.hint) ? `${line} (${e.hint})` : line;
}

import { createRng, type CacheControl, type Fault } from '@the-edge-agent/test-fixtures';
import type { BumpKind } from './published-model.js';

// The steps of the fault-sequence test and their seeded generator. A step is plain JSON, so a
// failing sequence prints as a list that `TEA_FAULT_STEPS` replays as it is.

/**
 * Where a load is interrupted: when this fraction of the bytes it has to fetch (what the store
 * cannot give back) has arrived.
 */
type At = number;

export type Step =
  /** A load to its end (with whatever faults are queued). */
  | { kind: 'load' }
  /** A load whose signal aborts at `at`. */
  | { kind: 'abort'; at: At }
  /** A load, and a real `page.reload()` at `at`. */
  | { kind: 'reload'; at: At }
  /** Faults queued on the next requests of a file: `chunk` (index), or the manifest (-1). */
  | { kind: 'fault'; chunk: number; faults: Fault[] }
  /**
   * A second tab: `both` load at once (one download, shared under the lock); `close-first`: the
   * second tab starts, the first waits, and the second tab is closed at `at`; `abort-waiting`: the
   * waiting tab's signal aborts.
   */
  | { kind: 'tab'; variant: 'both' | 'close-first' | 'abort-waiting'; at: At }
  /** A new version published; `at` set: while a load runs. */
  | { kind: 'bump'; bump: BumpKind; chunks: number[]; resize: boolean; at?: At }
  /** `clear()` of the cache (another connection in the same page); `at` set: during a load. */
  | { kind: 'clear'; at?: At }
  /** The origin's quota set to what is used plus `room` of the model's size, for one load. */
  | { kind: 'quota'; room: number }
  /**
   * A crash mid-load: every IndexedDB write after the first `writes` ones (or, at `point`
   * `after-complete`, after the model record is marked complete) fails as if the tab had died;
   * then the page is reloaded.
   */
  | { kind: 'crash'; writes?: number; point?: 'after-complete' }
  /** How the manifest or the chunks are served from now on. */
  | { kind: 'http'; target: 'manifest' | 'chunks'; cacheControl: CacheControl; gzip: boolean }
  /** A clean load (faults dropped, quota restored) and every invariant. */
  | { kind: 'heal' };

/** The faults a `fault` step draws from (the fault server's repertoire). */
const CHUNK_FAULTS: Fault[] = [
  '503',
  '500',
  '429-retry-after:0',
  '503-retry-after:1',
  'drop-midway',
  'drop-at:1000',
  'drop-at:70000',
  'stall-at:20000',
  'stall-headers',
  'truncate',
  'corrupt-byte',
  'ignore-range',
  'wrong-range',
  'extra-bytes',
  'redirect-same-origin',
  'redirect-other-origin',
  'html',
  'slow:2000000',
  '404',
];
/** `truncate`: a manifest cut short (a clean end, no Content-Length), found bug 1 (README). */
const MANIFEST_FAULTS: Fault[] = ['503', '429-retry-after:0', 'drop-at:10', 'html', 'truncate'];
/** Variants that make the browser revalidate (or not store) what it caches. */
const REVALIDATED: CacheControl[] = ['no-store', 'no-cache'];
/**
 * Variants that let the browser reuse a copy without asking (`max-age`, and heuristics from
 * `Last-Modified` without a `Cache-Control`): found bugs 2 and 5 (README).
 */
const REUSED: CacheControl[] = ['none', 'max-age=3600'];
/** Every `Cache-Control` variant. */
const VARIANTS: CacheControl[] = [...REVALIDATED, ...REUSED];

/**
 * Which step kinds the generator draws, with weights, by what it expects the store to hold: a
 * complete model (interrupting a load of it tests little, so mostly steps that change that) or
 * an incomplete one (interruptions, faults and tabs against a download in progress).
 */
const WEIGHTS: Record<'complete' | 'incomplete', [Exclude<Step['kind'], 'heal'>, number][]> = {
  complete: [
    ['bump', 4],
    ['clear', 3],
    ['fault', 1],
    ['http', 1],
    ['load', 1],
    ['abort', 1],
    ['tab', 1],
    ['reload', 0.5],
    ['quota', 0.5],
  ],
  incomplete: [
    ['abort', 5],
    ['fault', 5],
    ['reload', 3],
    ['tab', 3],
    ['crash', 2],
    ['load', 2],
    ['bump', 2],
    ['clear', 2],
    ['quota', 1.5],
    ['http', 1],
  ],
};

/** How a run starts: whether the manifest has block hashes, and how files are served. */
export interface InitialState {
  blocks: boolean;
  manifest: CacheControl;
  chunks: CacheControl;
}

/** The start of run `seed` (then `bump` and `http` steps change it). */
export function initialState(seed: number): InitialState {
  const rng = createRng(seed ^ 0xcac4e);
  const r = rng();
  return {
    blocks: rng() < 0.5,
    manifest: VARIANTS[Math.floor(rng() * VARIANTS.length)]!,
    chunks: r < 0.6 ? 'no-store' : VARIANTS[Math.floor(rng() * VARIANTS.length)]!,
  };
}

export interface GeneratorOptions {
  /** Chunks of the model (fault and bump targets). */
  chunks: number;
  /** Chance that a step is followed by a heal (the end of a sequence). */
  healChance?: number;
}

/**
 * `count` steps from `seed`: random steps, each followed by a heal with `healChance` (so
 * sequences of one to several steps, each checked when it ends), and a heal at the end.
 */
export function generateSteps(seed: number, count: number, o: GeneratorOptions): Step[] {
  const rng = createRng(seed);
  const int = (n: number) => Math.floor(rng() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  const at = () => Math.round((0.05 + rng() * 0.9) * 100) / 100;
  const steps: Step[] = [];
  // The generator's model of the store: whether the model is complete there.
  let complete = false;
  while (steps.length < count) {
    const weights = WEIGHTS[complete ? 'complete' : 'incomplete'];
    let r = rng() * weights.reduce((s, [, w]) => s + w, 0);
    const kind = weights.find(([, w]) => (r -= w) < 0)![0];
    // A bump or a clear while a load runs only means something when the load has work to do.
    const during = !complete && rng() < 0.5;
    if (kind === 'load' || kind === 'tab' || kind === 'quota') complete = true;
    if (['abort', 'reload', 'clear', 'bump', 'crash'].includes(kind)) complete = false;
    switch (kind) {
      case 'load':
        steps.push({ kind });
        break;
      case 'abort':
      case 'reload':
        steps.push({ kind, at: at() });
        break;
      case 'fault': {
        const manifest = rng() < 0.12;
        const n = 1 + (rng() < 0.3 ? int(3) : 0);
        steps.push({
          kind,
          chunk: manifest ? -1 : int(o.chunks),
          faults: Array.from({ length: n }, () => pick(manifest ? MANIFEST_FAULTS : CHUNK_FAULTS)),
        });
        break;
      }
      case 'tab':
        steps.push({ kind, variant: pick(['both', 'close-first', 'abort-waiting']), at: at() });
        break;
      case 'bump': {
        const bump = pick<BumpKind>([
          'repack',
          'repack',
          'rename',
          'same-version',
          'blocks',
          'rollback',
        ]);
        // (`blocks` adds or drops block hashes on a manifest of the same chunks: found bug 3.)
        const chunks = Array.from({ length: 1 + int(o.chunks) }, () => int(o.chunks));
        steps.push({
          kind,
          bump,
          chunks: [...new Set(chunks)].sort(),
          resize: rng() < 0.3,
          ...(during ? { at: at() } : {}),
        });
        break;
      }
      case 'clear':
        steps.push(during ? { kind, at: at() } : { kind });
        break;
      case 'quota':
        steps.push({ kind, room: Math.round(rng() * 60) / 100 });
        break;
      case 'crash':
        // `after-complete`: between marking the model complete and the rest (found bug 4, README).
        steps.push(rng() < 0.2 ? { kind, point: 'after-complete' } : { kind, writes: int(32) });
        break;
      case 'http': {
        const target = rng() < 0.5 ? 'manifest' : 'chunks';
        const cacheControl = pick(VARIANTS);
        // Chunks gzipped whole and kept by the browser, then a resume: found bug 6 (README).
        const gzip = rng() < 0.4;
        steps.push({ kind, target, cacheControl, gzip });
        break;
      }
    }
    if (rng() < (o.healChance ?? 0.3)) {
      steps.push({ kind: 'heal' });
      complete = true;
    }
  }
  if (steps.at(-1)?.kind !== 'heal') steps.push({ kind: 'heal' });
  return steps;
}

/** One line per step, for a failure report. */
export function describeSteps(steps: Step[]): string {
  return steps.map((s, i) => `${String(i).padStart(4)} ${JSON.stringify(s)}`).join('\n');
}

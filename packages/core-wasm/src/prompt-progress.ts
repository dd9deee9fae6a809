import type { WorkflowEvent } from './types.js';

/** A handler's prompt progress as a run event (numbers checked: handlers are JavaScript). */
export function promptProgressEvent(
  node: string,
  p: { processed?: unknown; total?: unknown; cached?: unknown },
): WorkflowEvent {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  return {
    type: 'prompt_progress',
    node,
    processed: n(p?.processed),
    total: n(p?.total),
    cached: n(p?.cached),
  };
}

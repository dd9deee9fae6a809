import type { BrowserEnvironment, RuntimeInfo, TeaInfo } from '@the-edge-agent/sdk';
import { formatBytes } from './format.js';

/** One labelled line of the diagnostics panel (plain text, never markup). */
export interface Row {
  field: string;
  label: string;
  value: string;
}

/** What this browser offers, in plain words: isolation, threads, memory, WebGPU, storage. */
export function browserRows(
  info: RuntimeInfo,
  env?: Pick<BrowserEnvironment, 'wasmHeapLimitBytes' | 'webgpu' | 'storageFreeBytes'>,
): Row[] {
  const t = info.threading;
  const rows: Row[] = [
    { field: 'engine', label: 'Workflow engine', value: `ready, version ${info.engineVersion}` },
    {
      field: 'isolation',
      label: 'Cross-origin isolation',
      value: t.crossOriginIsolated
        ? 'Yes: the model can use several threads'
        : 'No: the page is served without the COOP/COEP headers, so the model uses one thread (slower)',
    },
    {
      field: 'threads',
      label: 'Processor threads',
      value: t.multiThread ? `${t.threads}, working in parallel` : '1',
    },
  ];
  if (env) {
    rows.push(
      {
        field: 'memory',
        label: 'Memory for a model',
        value: `up to ${formatBytes(env.wasmHeapLimitBytes)} on the processor`,
      },
      {
        field: 'webgpu',
        label: 'Graphics card (WebGPU)',
        value: env.webgpu
          ? `available${env.webgpu.shaderF16 ? '' : ', but without 16-bit numbers: models run on the processor'}`
          : 'not available: models run on the processor',
      },
    );
    if (env.storageFreeBytes !== undefined)
      rows.push({
        field: 'storage',
        label: 'Free storage for models',
        value: formatBytes(env.storageFreeBytes),
      });
  }
  return rows;
}

/** The loaded model, in plain words. */
export function modelRows(
  info: TeaInfo,
  source: 'files' | 'url',
  fit?: { heapNeededBytes: number; heapLimitBytes: number },
): Row[] {
  const m = info.model;
  const rows: Row[] = [
    {
      field: 'model',
      label: 'Model',
      value: `${info.manifest?.id ?? m.name}, version ${info.manifest?.version ?? '?'} (${m.architecture})`,
    },
    { field: 'size', label: 'Size', value: formatBytes(m.modelBytes) },
    {
      field: 'source',
      label: 'Came from',
      value:
        source === 'files'
          ? 'local file(s), not cached'
          : info.fromCache
            ? 'this browser’s storage (no download)'
            : 'downloaded, checked and stored',
    },
    {
      field: 'runs-on',
      label: 'Runs on',
      value: m.webgpu
        ? 'the graphics card (WebGPU), with the processor'
        : `the processor, ${m.multiThread ? `${m.threads} threads in parallel` : '1 thread'}`,
    },
  ];
  if (info.profile) {
    rows.push({
      field: 'profile',
      label: 'Profile',
      value: `${info.profile.id} (${info.profile.mode})`,
    });
    rows.push({
      field: 'profile-reasons',
      label: 'Why it fits',
      value: fit
        ? `it needs about ${formatBytes(fit.heapNeededBytes)} of the ${formatBytes(fit.heapLimitBytes)} this browser can give it`
        : info.profile.reasons.join('; '),
    });
  }
  rows.push(
    {
      field: 'model-threads',
      label: 'Threads',
      value: m.multiThread ? `${m.threads} threads, in parallel` : '1 thread',
    },
    { field: 'ctx', label: 'Context', value: `${m.nCtx} tokens` },
  );
  return rows;
}

/** True for the built-in test model: random weights, gibberish output by design. */
export function isTestModel(
  info: Pick<TeaInfo, 'manifest' | 'profile'> & { model: { name: string } },
): boolean {
  const names = [info.manifest?.id, info.profile?.id, info.model.name];
  return names.some((n) => n !== undefined && /test-model|random-weight/i.test(n));
}

/** Fills a `<dl>` with rows; each value's `<dd>` carries `data-field`. */
export function fillRows(list: HTMLElement, rows: Row[]): void {
  list.replaceChildren(
    ...rows.flatMap(({ label, value, field }) => {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = value;
      dd.dataset['field'] = field;
      return [dt, dd];
    }),
  );
}

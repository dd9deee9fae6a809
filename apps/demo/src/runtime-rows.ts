import type { RuntimeInfo } from '@the-edge-agent/sdk';

/** One labelled line of the runtime panel. */
export interface Row {
  field: string;
  label: string;
  value: string;
}

/** Turns the sdk's runtime report into the rows the page shows (plain text, never markup). */
export function runtimeRows(info: RuntimeInfo): Row[] {
  const t = info.threading;
  return [
    { field: 'status', label: 'Status', value: 'engine ready' },
    { field: 'engine', label: 'Engine', value: `v${info.engineVersion} (WebAssembly)` },
    {
      field: 'isolation',
      label: 'Cross-origin isolated',
      value: t.crossOriginIsolated ? 'yes' : 'no',
    },
    {
      field: 'threads',
      label: 'Inference threads',
      value: `${t.threads} (${t.multiThread ? 'multi-thread' : 'single-thread'})`,
    },
    { field: 'why', label: 'Why', value: t.reason },
  ];
}

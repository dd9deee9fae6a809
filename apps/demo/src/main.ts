import { initYamlEngine, runtimeInfo } from '@the-edge-agent/sdk';
import { runtimeRows } from './runtime-rows.js';

const panel = document.querySelector<HTMLDListElement>('#runtime');

function show(rows: { field: string; label: string; value: string }[]): void {
  if (!panel) return;
  panel.replaceChildren(
    ...rows.flatMap((row) => {
      const dt = document.createElement('dt');
      dt.textContent = row.label;
      const dd = document.createElement('dd');
      dd.dataset['field'] = row.field;
      dd.textContent = row.value;
      return [dt, dd];
    }),
  );
}

try {
  await initYamlEngine();
  show(runtimeRows(runtimeInfo()));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  show([{ field: 'status', label: 'Status', value: `failed: ${message}` }]);
}

/**
 * A JSON value as a collapsible tree: objects and arrays are `<details>` (open to `openDepth`),
 * leaves are `key: value` lines. Text only, never markup (model output is untrusted).
 */
export function stateTree(value: unknown, key?: string, depth = 0, openDepth = 2): HTMLElement {
  const keyEl = () => {
    const k = document.createElement('span');
    k.className = 'key';
    k.textContent = key ?? '';
    return k;
  };
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [String(i), v] as const)
      : Object.entries(value as Record<string, unknown>);
    const details = document.createElement('details');
    details.open = depth < openDepth;
    const summary = document.createElement('summary');
    if (key !== undefined) summary.append(keyEl(), ' ');
    const size = document.createElement('span');
    size.className = 'size';
    size.textContent = Array.isArray(value)
      ? `list of ${entries.length}`
      : `${entries.length} field${entries.length === 1 ? '' : 's'}`;
    summary.append(size);
    const list = document.createElement('ul');
    for (const [k, v] of entries) {
      const li = document.createElement('li');
      li.append(stateTree(v, k, depth + 1, openDepth));
      list.append(li);
    }
    details.append(summary, list);
    if (key !== undefined) details.dataset['key'] = key;
    return details;
  }
  const line = document.createElement('div');
  line.className = 'leaf';
  if (key !== undefined) {
    line.append(keyEl(), ': ');
    line.dataset['key'] = key;
  }
  const v = document.createElement('span');
  v.className = `value ${value === null ? 'null' : typeof value}`;
  v.textContent = typeof value === 'string' ? JSON.stringify(value) : String(value);
  line.append(v);
  return line;
}

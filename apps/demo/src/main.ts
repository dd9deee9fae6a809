import {
  clearModelCache,
  exampleActions,
  exampleWorkflows,
  executeLlmYaml,
  getModelCacheStats,
  initTeaLlm,
  initYamlEngine,
  registerAction,
  runtimeInfo,
  type Tea,
  type WorkflowEvent,
} from '@the-edge-agent/sdk';
import { errorLine, formatBytes, progressLine } from './format.js';
import { showProfiles } from './profiles-panel.js';
import { runtimeRows } from './runtime-rows.js';

// Everything here inserts text (textContent), never markup: model output is untrusted.
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function rows(list: HTMLElement, items: Array<[string, string, string?]>): void {
  list.replaceChildren(
    ...items.flatMap(([label, value, field]) => {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = value;
      if (field) dd.dataset['field'] = field;
      return [dt, dd];
    }),
  );
}

async function showCache(): Promise<void> {
  const box = $('cache');
  try {
    const stats = await getModelCacheStats();
    const estimate = await navigator.storage?.estimate?.();
    const lines = stats.models.map(
      (m) =>
        `${m.id} v${m.version}: ${formatBytes(m.bytes)} of ${formatBytes(m.totalBytes)}, ${m.complete ? 'complete' : 'incomplete'}`,
    );
    if (lines.length === 0) lines.push('No model cached.');
    if (estimate?.quota)
      lines.push(
        `Storage: ${formatBytes(estimate.usage ?? 0)} used of ${formatBytes(estimate.quota)} quota`,
      );
    box.textContent = lines.join('\n');
    box.dataset['models'] = String(stats.models.length);
    box.dataset['bytes'] = String(stats.totalBytes);
  } catch (error) {
    box.textContent = `Cache unavailable: ${errorLine(error)}`;
  }
}

function selectExample(index: number): void {
  const example = exampleWorkflows[index];
  if (!example) return;
  $<HTMLTextAreaElement>('yaml').value = example.yaml;
  $<HTMLTextAreaElement>('state').value = JSON.stringify(example.state);
}

let tea: Tea | undefined;
let controller: AbortController | undefined;

type ModelSource =
  { manifestUrl: string } | { modelFiles: File[] } | { profiles?: string; profile?: string };

/** The form's source: a manifest, a models.json, or (empty) the bundled profiles. */
function formSource(): ModelSource {
  const url = $<HTMLInputElement>('manifest-url').value.trim();
  const profile = $<HTMLSelectElement>('profile').value;
  if (url && !url.endsWith('models.json')) return { manifestUrl: url };
  return { ...(url ? { profiles: url } : {}), ...(profile ? { profile } : {}) };
}

async function loadModel(source: ModelSource): Promise<void> {
  const status = $('progress-text');
  const bar = $<HTMLProgressElement>('progress');
  $<HTMLButtonElement>('load').disabled = true;
  // Set synchronously, before the first await, so that a watcher never mistakes the previous
  // model's "ready" for this load's.
  status.dataset['state'] = 'loading';
  bar.hidden = false;
  try {
    tea = await initTeaLlm({
      ...source,
      onProgress: (p) => {
        status.textContent = progressLine(p);
        if ('totalBytes' in p && p.totalBytes) bar.value = (p.loadedBytes ?? 0) / p.totalBytes;
        if (p.phase === 'ready') bar.value = 1;
      },
    });
    const info = tea.info();
    status.dataset['state'] = 'ready';
    rows($('model-info'), [
      [
        'Model',
        `${info.manifest?.id ?? info.model.name} v${info.manifest?.version ?? '?'} (${info.model.architecture})`,
        'model',
      ],
      ['Size', formatBytes(info.model.modelBytes), 'size'],
      [
        'Source',
        'modelFiles' in source
          ? 'local file(s), not cached'
          : info.fromCache
            ? 'IndexedDB cache'
            : 'downloaded and verified',
        'source',
      ],
      ...(info.profile
        ? ([
            ['Profile', `${info.profile.id} (${info.profile.mode})`, 'profile'],
            ['Why', info.profile.reasons.join('; '), 'profile-reasons'],
          ] as Array<[string, string, string]>)
        : []),
      [
        'Threads',
        `${info.model.threads} (${info.model.multiThread ? 'multi-thread' : 'single-thread'})`,
        'model-threads',
      ],
      ['WebGPU', info.model.webgpu ? 'yes' : 'no', 'webgpu'],
      ['Context', `${info.model.nCtx} tokens`, 'ctx'],
    ]);
    $<HTMLButtonElement>('run').disabled = false;
  } catch (error) {
    status.dataset['state'] = 'error';
    status.textContent = `Could not load the model: ${errorLine(error)}`;
  } finally {
    $<HTMLButtonElement>('load').disabled = false;
    await showCache();
  }
}

async function runWorkflow(): Promise<void> {
  const errorBox = $('error');
  const tokens = $('tokens');
  const timeline = $('timeline');
  const final = $('final');
  errorBox.hidden = true;
  tokens.textContent = '';
  final.textContent = '';
  delete final.dataset['state'];
  timeline.replaceChildren();
  let state: Record<string, unknown>;
  try {
    state = JSON.parse($<HTMLTextAreaElement>('state').value || '{}') as Record<string, unknown>;
  } catch (error) {
    errorBox.textContent = `The initial state is not valid JSON: ${(error as Error).message}`;
    errorBox.hidden = false;
    return;
  }
  controller = new AbortController();
  $<HTMLButtonElement>('run').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  const onEvent = (event: WorkflowEvent) => {
    if (event.type === 'token') {
      tokens.textContent += event.text;
      return;
    }
    const li = document.createElement('li');
    li.textContent =
      event.type === 'error'
        ? `error in ${event.node}: ${event.code}`
        : event.type === 'warning'
          ? `warning in ${event.node}: ${event.message}`
          : event.type === 'interrupt'
            ? `interrupted ${event.when} ${event.node}`
            : event.type === 'tool_call'
              ? `tool call in ${event.node}: ${event.name}(${JSON.stringify(event.arguments)})`
              : event.type === 'tool_result'
                ? `tool result in ${event.node}: ${event.name} -> ${event.result}`
                : `${event.type} ${event.node} (step ${event.step})`;
    timeline.append(li);
  };
  try {
    const result = await executeLlmYaml($<HTMLTextAreaElement>('yaml').value, state, {
      onEvent,
      signal: controller.signal,
    });
    final.textContent = JSON.stringify(result, null, 2);
    final.dataset['state'] = 'done';
  } catch (error) {
    errorBox.textContent = errorLine(error);
    errorBox.hidden = false;
    final.dataset['state'] = 'error';
  } finally {
    $<HTMLButtonElement>('run').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
}

async function main(): Promise<void> {
  const manifest = new URLSearchParams(location.search).get('manifest');
  // Before any await: a URL typed while the engine loads is kept, and its `change` is heard.
  if (manifest) $<HTMLInputElement>('manifest-url').value = manifest;
  $('model-hint').textContent = manifest
    ? 'Model from the ?manifest= parameter.'
    : 'Empty: the bundled profiles (models/models.json beside this page); the first that fits this browser is used. (A development build of this repository bundles a tiny random-weight test model: it loads in a second and its output is gibberish by design.)';
  const profilesSource = () => {
    const url = $<HTMLInputElement>('manifest-url').value.trim();
    return url.endsWith('models.json') ? url : undefined;
  };
  void showProfiles($('profiles'), $<HTMLSelectElement>('profile'), profilesSource());
  $('manifest-url').addEventListener('change', () => {
    const source = profilesSource();
    if (source || !$<HTMLInputElement>('manifest-url').value.trim())
      void showProfiles($('profiles'), $<HTMLSelectElement>('profile'), source);
  });
  try {
    await initYamlEngine();
    // The tool agent example's tools: plain JavaScript functions the model may call.
    for (const [name, action] of Object.entries(exampleActions)) registerAction(name, action);
    rows(
      $('runtime'),
      runtimeRows(runtimeInfo()).map((r) => [r.label, r.value, r.field]),
    );
  } catch (error) {
    rows($('runtime'), [['Status', `failed: ${errorLine(error)}`, 'status']]);
  }
  const select = $<HTMLSelectElement>('example');
  exampleWorkflows.forEach((e, i) => select.append(new Option(e.name, String(i))));
  select.addEventListener('change', () => selectExample(Number(select.value)));
  selectExample(0);
  $('model-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void loadModel(formSource());
  });
  // Enabled only now: a click before the handler exists would submit the form natively.
  $<HTMLButtonElement>('load').disabled = false;
  $('model-files').addEventListener('change', () => {
    // gguf-split shards sort by their -0000i-of-0000N names.
    const files = [...($<HTMLInputElement>('model-files').files ?? [])].sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    if (files.length) void loadModel({ modelFiles: files });
  });
  $('run').addEventListener('click', () => void runWorkflow());
  $('stop').addEventListener('click', () => controller?.abort());
  $('clear-cache').addEventListener('click', () => void clearModelCache().then(showCache));
  await showCache();
}

void main();

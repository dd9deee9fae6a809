import {
  exampleActions,
  initTeaLlm,
  initYamlEngine,
  probeEnvironment,
  registerAction,
  runtimeInfo,
  type Tea,
} from '@the-edge-agent/sdk';
import { clearCache, showCache } from './cache-panel.js';
import { setupChat } from './chat-panel.js';
import { browserRows, fillRows, isTestModel, modelRows } from './diagnostics.js';
import { errorLine, progressLine } from './format.js';
import { fits, showProfiles } from './profiles-panel.js';
import { setupWorkflows } from './workflow-panel.js';

// Everything here inserts text (textContent), never markup: model output is untrusted.
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let tea: Tea | undefined;

type ModelSource =
  { manifestUrl: string } | { modelFiles: File[] } | { profiles?: string; profile?: string };

/** The form's source: a manifest, a models.json, or (empty) the bundled profiles. */
function formSource(): ModelSource {
  const url = $<HTMLInputElement>('manifest-url').value.trim();
  const profile = $<HTMLSelectElement>('profile').value;
  if (url && !url.endsWith('models.json')) return { manifestUrl: url };
  return { ...(url ? { profiles: url } : {}), ...(profile ? { profile } : {}) };
}

const cacheView = () => showCache($('cache'), $('cache-usage'));

const chat = setupChat(
  {
    form: $<HTMLFormElement>('chat-form'),
    input: $<HTMLTextAreaElement>('chat-input'),
    send: $<HTMLButtonElement>('chat-send'),
    stop: $<HTMLButtonElement>('chat-stop'),
    log: $<HTMLOListElement>('chat-log'),
  },
  () => tea,
);

async function loadModel(source: ModelSource): Promise<void> {
  const status = $('progress-text');
  const bar = $<HTMLProgressElement>('progress');
  $<HTMLButtonElement>('load').disabled = true;
  // Set synchronously, before the first await, so that a watcher never mistakes the previous
  // model's "ready" for this load's.
  status.dataset['state'] = 'loading';
  status.textContent = 'Starting…';
  bar.hidden = false;
  bar.value = 0;
  try {
    tea = await initTeaLlm({
      ...source,
      onProgress: (p) => {
        status.textContent = progressLine(p);
        // One bar for the whole load (download, checks, storage, loading): the sdk's fraction
        // never goes back.
        bar.value = Math.max(bar.value, p.fraction);
      },
    });
    const info = tea.info();
    bar.value = 1;
    status.dataset['state'] = 'ready';
    const test = isTestModel(info);
    document.body.dataset['testModel'] = String(test);
    $('test-model-note').hidden = !test;
    const rows = modelRows(
      info,
      'modelFiles' in source ? 'files' : 'url',
      info.profile ? fits.get(info.profile.id) : undefined,
    );
    const main = new Set(['model', 'size', 'source', 'runs-on']);
    fillRows(
      $('model-info'),
      rows.filter((r) => main.has(r.field)),
    );
    fillRows(
      $('model-details'),
      rows.filter((r) => !main.has(r.field)),
    );
    chat.reset();
    for (const id of ['run', 'chat-send']) $<HTMLButtonElement>(id).disabled = false;
    $<HTMLTextAreaElement>('chat-input').placeholder = 'Ask something… (Enter sends)';
  } catch (error) {
    status.dataset['state'] = 'error';
    status.textContent = `Could not load the model: ${errorLine(error)}`;
    bar.hidden = true;
  } finally {
    $<HTMLButtonElement>('load').disabled = false;
    await cacheView();
  }
}

async function main(): Promise<void> {
  const manifest = new URLSearchParams(location.search).get('manifest');
  // Before any await: a URL typed while the engine loads is kept, and its `change` is heard.
  if (manifest) {
    $<HTMLInputElement>('manifest-url').value = manifest;
    $<HTMLDetailsElement>('model-source').open = true;
  }
  $('model-hint').textContent = manifest
    ? 'Model from the ?manifest= parameter.'
    : 'Empty: the models listed with this page (models/models.json); the first that fits this browser is used.';
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
  $('model-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void loadModel(formSource());
  });
  $('model-files').addEventListener('change', () => {
    // gguf-split shards sort by their -0000i-of-0000N names.
    const files = [...($<HTMLInputElement>('model-files').files ?? [])].sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    if (files.length) void loadModel({ modelFiles: files });
  });
  $('clear-cache').addEventListener('click', () => void clearCache($('cache'), $('cache-usage')));
  setupWorkflows();
  void cacheView();
  try {
    await initYamlEngine();
    // The tool agent example's tools: plain JavaScript functions the model may call.
    for (const [name, action] of Object.entries(exampleActions)) registerAction(name, action);
    const info = runtimeInfo();
    fillRows($('runtime'), browserRows(info));
    fillRows($('runtime'), browserRows(info, await probeEnvironment()));
  } catch (error) {
    fillRows($('runtime'), [
      { field: 'engine', label: 'Workflow engine', value: `failed: ${errorLine(error)}` },
    ]);
  }
  // Enabled only now: a click before the handler exists would submit the form natively.
  $<HTMLButtonElement>('load').disabled = false;
}

void main();

import {
  clearModelCache,
  deleteCachedModel,
  getModelCacheStats,
  type CachedModelInfo,
} from '@the-edge-agent/sdk';
import { errorLine, formatAgo, formatBytes } from './format.js';

function modelItem(m: CachedModelInfo, onDelete: (id: string) => void): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset['modelId'] = m.id;
  li.dataset['version'] = m.version;
  li.dataset['complete'] = String(m.complete);
  const name = document.createElement('strong');
  name.className = 'name';
  name.textContent = m.id;
  const facts = document.createElement('span');
  facts.className = 'facts';
  const size = m.complete
    ? formatBytes(m.bytes)
    : `${formatBytes(m.bytes + m.partialBytes)} of ${formatBytes(m.totalBytes)} (download not finished)`;
  facts.textContent = `version ${m.version} · ${size} · last used ${formatAgo(m.lastUsedAt)}`;
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'delete';
  remove.textContent = 'Delete';
  remove.setAttribute('aria-label', `Delete ${m.id} from this browser`);
  remove.addEventListener('click', () => onDelete(m.id));
  const text = document.createElement('div');
  text.append(name, facts);
  li.append(text, remove);
  return li;
}

/**
 * The models stored in this browser: one line each with its size, version and last use, and a
 * Delete button for that model only; then the storage used. `data-models` / `data-bytes` on the
 * list's container say the count and the bytes stored, for tests.
 */
export async function showCache(box: HTMLElement, usage: HTMLElement): Promise<void> {
  const refresh = () => void showCache(box, usage);
  try {
    const stats = await getModelCacheStats();
    const list = document.createElement('ul');
    list.className = 'cache-list';
    list.append(
      ...stats.models.map((m) =>
        modelItem(m, (id) => {
          box.dataset['state'] = 'deleting';
          void deleteCachedModel(id).then(refresh, (error: unknown) => {
            usage.textContent = `Could not delete ${id}: ${errorLine(error)}`;
          });
        }),
      ),
    );
    if (stats.models.length === 0) {
      const empty = document.createElement('p');
      empty.className = 'hint';
      empty.textContent = 'No model is stored in this browser yet.';
      box.replaceChildren(empty);
    } else box.replaceChildren(list);
    box.dataset['models'] = String(stats.models.length);
    box.dataset['bytes'] = String(stats.totalBytes);
    box.dataset['state'] = 'ready';
    const estimate = await navigator.storage?.estimate?.();
    usage.textContent = estimate?.quota
      ? `Models take ${formatBytes(stats.totalBytes)}; this site may store up to ${formatBytes(estimate.quota)}.`
      : `Models take ${formatBytes(stats.totalBytes)}.`;
  } catch (error) {
    box.textContent = `The model storage is unavailable: ${errorLine(error)}`;
    box.dataset['state'] = 'error';
  }
}

/** Deletes every stored model, then shows the (empty) cache. */
export async function clearCache(box: HTMLElement, usage: HTMLElement): Promise<void> {
  box.dataset['state'] = 'deleting';
  await clearModelCache();
  await showCache(box, usage);
}

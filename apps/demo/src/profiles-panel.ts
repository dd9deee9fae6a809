import {
  bundledModelsUrl,
  loadModelIndex,
  probeEnvironment,
  rankProfiles,
  type ProfileFit,
} from '@the-edge-agent/sdk';
import { errorLine } from './format.js';

/** One line per profile: what it is and whether this browser can run it, and why. */
export function profileLine({ profile, fit }: ProfileFit): string {
  // Decimal units, as the preflight's reasons use.
  const size =
    profile.totalBytes >= 1e9
      ? `${(profile.totalBytes / 1e9).toFixed(2)} GB`
      : `${(profile.totalBytes / 1e6).toFixed(1)} MB`;
  const what = `${profile.label ?? profile.id} · ${size} in ${profile.chunks} chunks`;
  const warned = fit.warnings.length ? ` · note: ${fit.warnings.join('; ')}` : '';
  return fit.fits
    ? `${what} · runs here (${fit.mode === 'webgpu' ? 'WebGPU offload' : 'CPU only'})${warned}`
    : `${what} · cannot run here: ${fit.reasons.join('; ')}`;
}

let generation = 0;

/**
 * Fills the profile list and the profile picker from `models.json` (default: the bundled one),
 * with the verdict of the sdk's preflight for this browser. Nothing is downloaded.
 */
export async function showProfiles(
  list: HTMLElement,
  picker: HTMLSelectElement,
  source?: string,
): Promise<void> {
  // A later call (another source) wins over one still waiting.
  const mine = ++generation;
  try {
    const index = await loadModelIndex(source ?? bundledModelsUrl());
    const ranked = rankProfiles(index, await probeEnvironment());
    if (mine !== generation) return;
    // A re-render (the URL field fires `change` again when it loses focus) keeps the choice.
    const chosen = picker.value;
    picker.replaceChildren(new Option('the best that fits this browser', ''));
    list.replaceChildren(
      ...ranked.map((r) => {
        const li = document.createElement('li');
        li.textContent = profileLine(r);
        li.dataset['profile'] = r.profile.id;
        li.dataset['fits'] = String(r.fit.fits);
        li.dataset['mode'] = r.fit.mode;
        return li;
      }),
    );
    for (const r of ranked)
      picker.append(new Option(r.profile.label ?? r.profile.id, r.profile.id));
    if (ranked.some((r) => r.profile.id === chosen)) picker.value = chosen;
    list.dataset['state'] = 'ready';
  } catch (error) {
    if (mine !== generation) return;
    picker.replaceChildren(new Option('the best that fits this browser', ''));
    const li = document.createElement('li');
    li.textContent = `No model profiles: ${errorLine(error)}`;
    list.replaceChildren(li);
    list.dataset['state'] = 'error';
  }
}

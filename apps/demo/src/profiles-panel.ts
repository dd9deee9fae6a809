import {
  bundledModelsUrl,
  loadModelIndex,
  probeEnvironment,
  rankProfiles,
  type ProfileFit,
} from '@the-edge-agent/sdk';
import { errorLine, formatBytes } from './format.js';

const where = (fit: ProfileFit['fit']) =>
  fit.mode === 'webgpu' ? 'on the graphics card' : 'on the processor';

/** One line per profile: what it is and whether this browser can run it, and why. */
export function profileLine({ profile, fit }: ProfileFit): string {
  const what = `${profile.label ?? profile.id} · ${formatBytes(profile.totalBytes)} in ${profile.chunks} parts`;
  const warned = fit.warnings.length ? ` · note: ${fit.warnings.join('; ')}` : '';
  return fit.fits
    ? `${what} · runs here ${where(fit)}, needs about ${formatBytes(fit.heapNeededBytes)} of memory${warned}`
    : `${what} · cannot run here: ${fit.reasons.join('; ')}`;
}

/** The picker's label of a profile: name, size and a short verdict. */
export function optionLabel({ profile, fit }: ProfileFit): string {
  return `${profile.label ?? profile.id} · ${formatBytes(profile.totalBytes)}${fit.fits ? '' : ' · too large for this browser'}`;
}

let generation = 0;
/** The verdicts of the profiles last shown, by id (the model card says why a model fits). */
export const fits = new Map<string, ProfileFit['fit']>();

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
    fits.clear();
    for (const r of ranked) fits.set(r.profile.id, r.fit);
    picker.replaceChildren(new Option('Best fit (automatic)', ''));
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
    for (const r of ranked) picker.append(new Option(optionLabel(r), r.profile.id));
    if (ranked.some((r) => r.profile.id === chosen)) picker.value = chosen;
    list.dataset['state'] = 'ready';
  } catch (error) {
    if (mine !== generation) return;
    picker.replaceChildren(new Option('Best fit (automatic)', ''));
    const li = document.createElement('li');
    li.textContent = `No model list: ${errorLine(error)}`;
    list.replaceChildren(li);
    list.dataset['state'] = 'error';
  }
}

import type { AcquireModelOptions, ModelPlan } from '../acquire-types.js';
import { ModelLoaderError, redactText, redactUrl } from '../errors.js';
import {
  fetchHubRevision,
  hubAccessError,
  hubBase,
  hubFileMissing,
  hubResolveUrl,
  parseHubReference,
  withHubToken,
  type HubPin,
  type HubReference,
  type ModelLoaderWarning,
} from '../hub-ref.js';
import type { ModelManifest } from '../manifest.js';
import { absolute } from '../page-url.js';
import { allowedFor, planFiles, samePins, shardPaths } from './gguf-source.js';
import { fetchManifest } from './manifest-source.js';

/** One model's `hf:` references, parsed: one repository and revision, its files' paths. */
interface HubModel {
  ref: HubReference;
  entries: string[];
  paths: string[];
  base: string;
  urlsAt: (revision: string) => string[];
  modelId: string;
  options: AcquireModelOptions;
  warn: (w: ModelLoaderWarning) => void;
}

function hubModel(
  entries: string[],
  id: string | undefined,
  options: AcquireModelOptions,
): HubModel {
  const refs = entries.map(parseHubReference);
  const ref = refs[0]!;
  if (refs.some((r) => r.owner !== ref.owner || r.repo !== ref.repo || r.revision !== ref.revision))
    throw new ModelLoaderError(
      'INVALID_ARGUMENT',
      `the hf: references of one model must name one repository and revision (${entries.join(', ')})`,
    );
  const base = hubBase(options.hubBaseUrl);
  const origin = new URL(absolute(base)).origin;
  const paths = refs.length === 1 ? shardPaths(ref.path) : refs.map((r) => r.path);
  const urlsAt = (revision: string) => paths.map((p) => hubResolveUrl(ref, revision, p, base));
  return {
    ref,
    entries,
    paths,
    base,
    urlsAt,
    modelId: id ?? `gguf:${redactUrl(urlsAt(ref.revision)[0]!)}`,
    options: {
      ...options,
      fetch: withHubToken(
        options.fetch ?? globalThis.fetch.bind(globalThis),
        origin,
        options.hubToken,
      ),
    },
    warn: (w) => (options.onWarning ? options.onWarning(w) : console.warn(w.message)),
  };
}

const pinOf = (h: HubModel, commit: string): HubPin => ({
  repo: `${h.ref.owner}/${h.ref.repo}`,
  revision: h.ref.revision,
  commit,
  resolvedAt: new Date().toISOString(),
});

/** The reference written with a commit, for the warnings' "write … to pin it in code". */
const pinnedText = (h: HubModel, commit: string) =>
  `${h.entries[0]!.replace(/@[^@]*$/, '')}@${commit}`;

const movingText = (h: HubModel) =>
  `${h.ref.reference} names "${h.ref.revision}", ${
    /^[0-9a-f]+$/.test(h.ref.revision) ? 'not a full 40-hex commit' : 'a branch or tag'
  }, which can move`;

/**
 * The plan of a model named by `hf:` references: a 40-hex commit as given; a branch or tag
 * (none: `main`) from the pin stored with the cached model (the Hub is asked where the branch is
 * now, beside the cache read, and the answer is a warning), else resolved to its commit with one
 * Hub API request before any model byte, its files verified against the Hub's LFS SHA-256.
 * Errors of the Hub, and of the files' download, say what to do (`mapError`).
 */
export async function planHub(
  entries: string[],
  id: string | undefined,
  options: AcquireModelOptions,
): Promise<ModelPlan> {
  const h = hubModel(entries, id, options);
  const mapError = (error: unknown) => hubError(h, error);
  try {
    const plan = h.ref.pinned
      ? await planFiles(h.urlsAt(h.ref.revision), h.modelId, h.options, {
          hub: pinOf(h, h.ref.revision),
        })
      : ((await planFromStoredPin(h)) ?? (await planNewPin(h)));
    // The files come with the Hub token's fetch (sent to the Hub's origin only).
    return { ...plan, fetch: h.options.fetch!, mapError };
  } catch (error) {
    throw mapError(error);
  }
}

/** A branch or tag pinned in the store: that commit, and a warning once the Hub says more. */
async function planFromStoredPin(h: HubModel): Promise<ModelPlan | undefined> {
  const stored = (await h.options.store?.storedManifest(h.modelId)) as
    ModelManifest | null | undefined;
  const pin = storedPin(stored, h);
  if (!stored || !pin) return undefined;
  const urls = h.urlsAt(pin.commit);
  const manifest = await fetchManifest(
    { manifest: stored, baseUrl: urls[0]! },
    { ...h.options, allowedOrigins: allowedFor(urls, h.options) },
  );
  const latest = latestCommit(h.ref, h.options);
  return { manifest, settle: async () => warnStoredPin(h, pin, await latest) };
}

function warnStoredPin(h: HubModel, pin: HubPin, now: { commit?: string; why?: string }): void {
  const { ref } = h;
  const when = pin.resolvedAt.slice(0, 10);
  const fields = { reference: ref.reference, revision: ref.revision, commit: pin.commit };
  if (now.commit && now.commit !== pin.commit)
    h.warn({
      code: 'HUB_REVISION_MOVED',
      ...fields,
      latestCommit: now.commit,
      message: redactText(
        `${ref.reference}: "${ref.revision}" has moved to commit ${now.commit} since commit ${pin.commit} was pinned (${when}); this load used the pinned commit, as every load of this reference will. To take the new one, write ${pinnedText(h, now.commit)}, or delete the cached model "${h.modelId}" (deleteCachedModel(id) in the sdk, cache.delete(id) in model-cache) and load the reference again`,
      ),
    });
  else
    h.warn({
      code: 'HUB_REVISION_PINNED',
      ...fields,
      message: redactText(
        `${movingText(h)}: loaded commit ${pin.commit}, pinned ${when} (${
          now.commit
            ? `"${ref.revision}" still points there`
            : `whether "${ref.revision}" has moved is unknown: ${now.why}`
        }). Write ${pinnedText(h, pin.commit)} to pin it in code`,
      ),
    });
}

/** A branch or tag seen for the first time: its commit now, and the files' LFS hashes there. */
async function planNewPin(h: HubModel): Promise<ModelPlan> {
  const { ref, paths } = h;
  const revision = await fetchHubRevision(ref, h.options);
  const missing = revision.files ? paths.filter((p) => !revision.files!.has(p)) : [];
  if (missing.length) throw hubFileMissing(ref, missing, revision, h.urlsAt(revision.commit));
  h.warn({
    code: 'HUB_REVISION_PINNED',
    reference: ref.reference,
    revision: ref.revision,
    commit: revision.commit,
    message: redactText(
      `${movingText(h)}: pinned to commit ${revision.commit}${
        h.options.store
          ? ', recorded with the cached model (later loads of this reference use it)'
          : ' (no store: the next load resolves it again)'
      }. Write ${pinnedText(h, revision.commit)} to pin it in code`,
    ),
  });
  return planFiles(h.urlsAt(revision.commit), h.modelId, h.options, {
    hub: pinOf(h, revision.commit),
    sha256: paths.map((p) => revision.files?.get(p)?.sha256),
  });
}

/** An error of the Hub or of the files, with what to do (offline first load, gated, missing). */
function hubError(h: HubModel, error: unknown): unknown {
  const { ref } = h;
  if (
    !ref.pinned &&
    error instanceof ModelLoaderError &&
    error.code === 'NETWORK_ERROR' &&
    error.url?.startsWith(redactUrl(`${h.base}/api/`))
  )
    return new ModelLoaderError(
      'NETWORK_ERROR',
      `${ref.reference}: could not reach the Hub to resolve "${ref.revision}" to a commit, and no pinned copy of this reference is cached: connect to the network and load again (the first load of a reference needs the Hub; later ones load the pinned commit from the cache, offline too). ${error.message}`,
      { url: error.url, cause: error },
    );
  return hubAccessError(error, ref, h.options);
}

/** The pin a stored manifest holds for this reference (same repository, revision and files). */
function storedPin(stored: ModelManifest | null | undefined, h: HubModel): HubPin | undefined {
  const pin = stored?.['hub'] as HubPin | undefined;
  if (!stored || !pin || typeof pin.commit !== 'string' || !/^[0-9a-f]{40}$/.test(pin.commit))
    return undefined;
  if (pin.repo !== `${h.ref.owner}/${h.ref.repo}` || pin.revision !== h.ref.revision)
    return undefined;
  return samePins(stored, h.urlsAt(pin.commit)) ? pin : undefined;
}

/**
 * Where the reference's branch points now, asked once with no retry and a time limit (the
 * pinned model loads regardless); the reason when it cannot be known.
 */
async function latestCommit(
  ref: HubReference,
  options: AcquireModelOptions,
): Promise<{ commit?: string; why?: string }> {
  const limit = options.hubCheckTimeoutMs ?? 5000;
  if (limit <= 0) return { why: 'not checked (hubCheckTimeoutMs: 0)' };
  if ((globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false)
    return { why: 'this device is offline' };
  const controller = new AbortController();
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(stop, limit);
  try {
    const { commit } = await fetchHubRevision(ref, {
      ...options,
      retries: 0,
      idleTimeoutMs: Math.min(options.idleTimeoutMs ?? limit, limit),
      signal: controller.signal,
    });
    return { commit };
  } catch (error) {
    const code = (error as ModelLoaderError).code;
    return {
      why:
        code === 'ABORTED'
          ? `the Hub did not answer within ${limit} ms`
          : code === 'HTTP_ERROR'
            ? `the Hub answered HTTP ${(error as ModelLoaderError).status}`
            : 'the Hub could not be reached (offline?)',
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stop);
  }
}

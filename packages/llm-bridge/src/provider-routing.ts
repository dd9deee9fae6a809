import { bridgeHandler, type LlmHandler, type LlmHandlerRequest } from './handler.js';
import { RemoteBridge, type RemoteToolCalls } from './remote-bridge.js';
import { RemoteModelError } from './remote-model-error.js';

// Upstream TEA's `provider` / `api_base` / `model` on `llm.call`, `llm.stream`, `llm.tools` and
// `llm.embed`: the call goes to an OpenAI-compatible endpoint instead of the handle's model. Two
// rules keep a workflow (untrusted text) from sending data anywhere: the endpoint's origin must
// be one the app allowed (`createTea({ allowedEndpoints })`), and keys come only from the run's
// `secrets` (the engine drops a YAML `api_key`), under upstream's environment-variable names.

/** An origin workflows may call, e.g. `'http://127.0.0.1:8080'`, or with how it takes tools. */
export type AllowedEndpoint = string | { origin: string; toolCalls?: RemoteToolCalls };

/**
 * Upstream's routing keys, as the engine passes a node's parameters through: workflow text, so
 * any value (only non-empty strings count).
 */
export interface ProviderFields {
  provider?: unknown;
  api_base?: unknown;
  api_key?: unknown;
  model?: unknown;
}

/** An engine request that may name a provider. */
export type RoutedRequest = LlmHandlerRequest & ProviderFields;

/** Where upstream's providers live by default, and which secrets configure them. */
const PROVIDERS: Record<string, { base?: string; baseSecret?: string; keySecrets: string[] }> = {
  openai: {
    base: 'https://api.openai.com/v1',
    baseSecret: 'OPENAI_API_BASE',
    keySecrets: ['OPENAI_API_KEY'],
  },
  ollama: {
    base: 'http://localhost:11434/v1',
    baseSecret: 'OLLAMA_API_BASE',
    keySecrets: ['OLLAMA_API_KEY'],
  },
  litellm: { baseSecret: 'LITELLM_API_BASE', keySecrets: ['LITELLM_API_KEY', 'OPENAI_API_KEY'] },
};

type Secrets = Record<string, unknown>;

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** Which provider a request names, after upstream's `auto` detection (secrets stand for env). */
function providerOf(req: ProviderFields, secrets: Secrets): string {
  const named = text(req.provider);
  if (named && named !== 'auto') return named;
  if (text(req.api_base)) return 'openai';
  if (named === 'auto') {
    if (text(secrets['OLLAMA_API_BASE'])) return 'ollama';
    if (text(secrets['OPENAI_API_KEY'])) return 'openai';
  }
  return 'local';
}

function configError(message: string, endpoint = ''): RemoteModelError {
  return new RemoteModelError('REMOTE_NOT_CONFIGURED', message, endpoint);
}

/** The allowed entry for `base`'s origin, or a `REMOTE_NOT_ALLOWED` error saying how to allow it. */
function allowed(base: URL, allow: AllowedEndpoint[]): { toolCalls?: RemoteToolCalls } {
  for (const entry of allow) {
    const origin = typeof entry === 'string' ? entry : entry.origin;
    let o: string;
    try {
      o = new URL(origin).origin;
    } catch {
      continue;
    }
    if (o === base.origin) return typeof entry === 'string' ? {} : entry;
  }
  throw new RemoteModelError(
    'REMOTE_NOT_ALLOWED',
    `the workflow asks for the endpoint ${base.href}, whose origin ${base.origin} the app has not allowed: add it to createTea({ allowedEndpoints: ['${base.origin}'] })`,
    base.href,
  );
}

/** The endpoint a remote provider's request goes to, its model and key (or a config error). */
function remoteTarget(provider: string, req: ProviderFields, s: Secrets, allow: AllowedEndpoint[]) {
  if (provider === 'azure')
    throw configError(
      "provider 'azure' is not supported in the browser: use `provider: openai` with your resource's OpenAI-compatible `api_base` (…/openai/v1) and the key in secrets.OPENAI_API_KEY",
    );
  const spec = PROVIDERS[provider];
  if (!spec) throw configError(`unknown provider '${provider}'`);
  const baseText =
    text(req.api_base) ?? (spec.baseSecret ? text(s[spec.baseSecret]) : undefined) ?? spec.base;
  if (!baseText)
    throw configError(
      `provider '${provider}' needs \`api_base\` (the proxy's OpenAI-compatible URL) or secrets.${spec.baseSecret}`,
    );
  let base: URL;
  try {
    base = new URL(baseText);
  } catch {
    throw configError(`api_base ${JSON.stringify(baseText)} is not a URL`, baseText);
  }
  const model = text(req.model);
  if (!model)
    throw configError(
      `provider '${provider}' needs \`model\` (the name the endpoint serves)`,
      base.href,
    );
  const rule = allowed(base, allow);
  const apiKey = spec.keySecrets.map((k) => text(s[k])).find(Boolean);
  return { base, model, apiKey, toolCalls: rule.toolCalls };
}

/**
 * Wraps a handle's handler: requests without a remote provider go to `local`; the others to the
 * endpoint they name, when its origin is allowed, with the key from `secrets`.
 */
export function routeProviders(
  local: LlmHandler,
  allow: AllowedEndpoint[],
  secrets: Secrets | undefined,
): LlmHandler {
  const s = secrets ?? {};
  const clients = new Map<string, RemoteBridge>();
  return async (req: RoutedRequest) => {
    const provider = providerOf(req, s);
    // `model` names a remote model: the handle's own model serves the others.
    const { provider: _p, api_base: _b, api_key: _k, model: _m, ...rest } = req;
    // `shell`: the engine has warned that it does not run here.
    if (provider === 'local' || provider === 'shell') return local(rest);
    const { base, model, apiKey, toolCalls } = remoteTarget(provider, req, s, allow);
    const id = JSON.stringify([base.href, model, apiKey ?? '', toolCalls ?? 'native']);
    let client = clients.get(id);
    if (!client) {
      client = new RemoteBridge({
        apiBase: base.href,
        model,
        ...(apiKey ? { apiKey } : {}),
        ...(toolCalls ? { toolCalls } : {}),
      });
      clients.set(id, client);
    }
    return bridgeHandler(client)(rest);
  };
}

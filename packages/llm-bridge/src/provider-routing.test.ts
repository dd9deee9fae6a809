import { describe, expect, it } from 'vitest';
import type { LlmHandlerRequest } from './handler.js';
import { routeProviders, type RoutedRequest } from './provider-routing.js';

// The routing alone, without the engine or a server: which requests stay local, and which are
// refused before any request. (The sdk's workflow-providers.test.ts runs it from workflows
// against a real endpoint.)

const answer = {
  content: 'local',
  model: 'l',
  finish_reason: 'stop' as const,
  usage: {
    prompt_tokens: 1,
    completion_tokens: 1,
    total_tokens: 2,
  },
};

function recording() {
  const seen: LlmHandlerRequest[] = [];
  const local = async (req: LlmHandlerRequest) => {
    seen.push(req);
    return answer;
  };
  return { seen, local };
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e as { code?: string }).code,
  );

describe('routeProviders', () => {
  it('serves requests without a remote provider locally, without the routing fields', async () => {
    const { seen, local } = recording();
    const route = routeProviders(local, [], {});
    const requests: RoutedRequest[] = [
      { kind: 'call', prompt: 'hi' },
      { kind: 'call', prompt: 'hi', provider: 'local', model: 'x' },
      { kind: 'embed', input: 'e', provider: 'shell' },
    ];
    for (const req of requests) await route(req);
    expect(seen).toEqual([
      { kind: 'call', prompt: 'hi' },
      { kind: 'call', prompt: 'hi' },
      { kind: 'embed', input: 'e' },
    ]);
  });

  it('refuses an origin the app did not allow, and names what a provider lacks', async () => {
    const { seen, local } = recording();
    const route = routeProviders(local, ['http://127.0.0.1:1'], {});
    const ask = (extra: object) => route({ kind: 'call', prompt: 'hi', ...extra });
    expect(
      await code(ask({ provider: 'openai', api_base: 'http://127.0.0.1:9/v1', model: 'm' })),
    ).toBe('REMOTE_NOT_ALLOWED');
    expect(await code(ask({ provider: 'ollama', api_base: 'http://127.0.0.1:1/v1' }))).toBe(
      'REMOTE_NOT_CONFIGURED',
    );
    expect(await code(ask({ provider: 'litellm', model: 'm' }))).toBe('REMOTE_NOT_CONFIGURED');
    expect(await code(ask({ provider: 'azure', model: 'm' }))).toBe('REMOTE_NOT_CONFIGURED');
    expect(await code(ask({ provider: 'nope', model: 'm' }))).toBe('REMOTE_NOT_CONFIGURED');
    expect(await code(ask({ api_base: 'not a url', model: 'm' }))).toBe('REMOTE_NOT_CONFIGURED');
    expect(seen).toEqual([]);
  });
});

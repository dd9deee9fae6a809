import { acquireModel, type ModelLoaderWarning } from '@the-edge-agent/model-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireOptions, modelSourceOf } from './model-source.js';
import { startJsonServer } from '@the-edge-agent/test-fixtures';
import { resolveModelOption } from './model-option.js';

// createTea({ model: 'hf:…' }) hands the reference to model-loader with the hub options: where it
// resolves (hubBaseUrl), the token (hubToken), and where the pin's warning goes (onWarning).

const COMMIT = 'a'.repeat(40);
const TOKEN = 'hf_sdkTOKENsecret1';
let hub: Awaited<ReturnType<typeof startJsonServer>>;

beforeAll(async () => {
  hub = await startJsonServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return void res.writeHead(401, { 'X-Error-Code': 'RepoNotFound' }).end('{}');
    if (req.url?.startsWith('/api/models/acme/m-GGUF/revision/main'))
      return void res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ sha: COMMIT, siblings: [{ rfilename: 'm.gguf' }] }));
    res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end('{}');
  });
});
afterAll(() => hub.close());

describe("createTea({ model: 'hf:…' })", () => {
  it('resolves the branch through model-loader with hubBaseUrl, hubToken and onWarning', async () => {
    const warnings: ModelLoaderWarning[] = [];
    const config = resolveModelOption({
      model: 'hf:acme/m-GGUF/m.gguf',
      hubBaseUrl: hub.origin,
      hubToken: TOKEN,
      onWarning: (w) => warnings.push(w),
    });
    // The file itself is missing on this hub: the load stops after the pin, at the first file.
    const error = await acquireModel(
      modelSourceOf(config),
      acquireOptions(config, undefined),
    ).catch((e: unknown) => e);
    expect(hub.seen.map((r) => [r.path, r.auth])).toEqual([
      ['/api/models/acme/m-GGUF/revision/main?blobs=true', `Bearer ${TOKEN}`],
      [`/acme/m-GGUF/resolve/${COMMIT}/m.gguf`, `Bearer ${TOKEN}`],
    ]);
    expect(warnings).toEqual([
      expect.objectContaining({ code: 'HUB_REVISION_PINNED', revision: 'main', commit: COMMIT }),
    ]);
    expect(error).toMatchObject({ code: 'HTTP_ERROR', status: 404 });
    expect(String(error)).not.toContain(TOKEN);
  });

  it('a refused token says so, without the token', async () => {
    const config = resolveModelOption({
      model: 'hf:acme/m-GGUF/m.gguf',
      hubBaseUrl: hub.origin,
      hubToken: 'hf_wrongTOKEN',
      onWarning: () => undefined,
    });
    const error = await acquireModel(
      modelSourceOf(config),
      acquireOptions(config, undefined),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'HTTP_ERROR', status: 401 });
    expect((error as Error).message).toContain('the Hub refused the token');
    expect(String(error)).not.toContain('hf_wrongTOKEN');
  });
});

import { describe, expect, it } from 'vitest';
import { mapWllamaError } from './map-wllama-error.js';

const wllamaError = (message: string, type: string) => Object.assign(new Error(message), { type });

describe('mapWllamaError', () => {
  it('maps wllama aborts to ABORTED AbortErrors', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    const mapped = mapWllamaError(abort, { phase: 'inference', what: 'the completion' });
    expect(mapped).toMatchObject({ code: 'ABORTED', name: 'AbortError' });
    expect(mapped.message).toBe('the completion was aborted');
  });

  it('maps model_not_loaded', () => {
    const mapped = mapWllamaError(wllamaError('Model is not loaded', 'model_not_loaded'), {
      phase: 'inference',
      what: 'the chat',
    });
    expect(mapped.code).toBe('MODEL_NOT_LOADED');
  });

  it('maps the garbage-length RangeError of a big load to MODEL_TOO_LARGE with numbers', () => {
    const mapped = mapWllamaError(new RangeError('Invalid typed array length: 1163217991'), {
      phase: 'load',
      what: 'loading the model',
      modelBytes: 4.45e9,
      limitBytes: 4 * 2 ** 30,
    });
    expect(mapped).toMatchObject({
      code: 'MODEL_TOO_LARGE',
      requiredBytes: 4.45e9,
      limitBytes: 4 * 2 ** 30,
    });
    expect(mapped.message).toMatch(/4\.45 GB/);
  });

  it("reads llama.cpp's failed allocation from the log into MODEL_TOO_LARGE (stock build, E4B)", () => {
    // What the stock 4 GiB build does with the 4.84 GB E4B Q4_K_M fixture.
    const mapped = mapWllamaError(new RangeError('Invalid typed array length: 1163217991'), {
      phase: 'load',
      what: 'loading the model',
      modelBytes: 4_842_802_656,
      limitBytes: 4 * 2 ** 30,
      nativeError: 'ggml_aligned_malloc: insufficient memory (attempted to allocate 4612.01 MB)',
      allocationBytes: Math.round(4612.01 * 2 ** 20),
    });
    expect(mapped).toMatchObject({ code: 'MODEL_TOO_LARGE', limitBytes: 4 * 2 ** 30 });
    expect(mapped.message).toMatch(/4\.84 GB .* needed, the limit is 4\.29 GB/);
    expect(mapped.message).toMatch(/could not allocate 4\.84 GB/);
  });

  it('reports the native exception text for a small model that fails to load', () => {
    const mapped = mapWllamaError(new RangeError('Invalid typed array length: 1163217991'), {
      phase: 'load',
      what: 'loading the model',
      modelBytes: 1000,
      nativeError: 'llama_model_load: error loading model: tensor data is not within file bounds',
    });
    expect(mapped.code).toBe('LOAD_FAILED');
    expect(mapped.message).toMatch(/not within file bounds/);
  });

  it('explains a Blob the browser could not read back (private windows keep it in memory)', () => {
    // What Chromium throws when a 1 GB model's Blobs no longer fit its in-memory blob storage.
    const notReadable = Object.assign(
      new Error(
        'The requested file could not be read, typically due to permission problems that have occurred after a reference to a file was acquired.',
      ),
      { name: 'NotReadableError' },
    );
    const mapped = mapWllamaError(notReadable, { phase: 'load', what: 'loading the model' });
    expect(mapped.code).toBe('LOAD_FAILED');
    expect(mapped.message).toMatch(/Private \(incognito\) windows keep downloaded data/);
  });

  it('maps out-of-memory text during load to MODEL_TOO_LARGE', () => {
    const mapped = mapWllamaError(new Error('Aborted(OOM)'), {
      phase: 'load',
      what: 'loading the model',
      modelBytes: 3e9,
    });
    expect(mapped.code).toBe('MODEL_TOO_LARGE');
  });

  it('maps other inference failures to INFERENCE_FAILED naming the call', () => {
    const mapped = mapWllamaError(new Error('kv cache full'), {
      phase: 'inference',
      what: 'the completion',
    });
    expect(mapped.code).toBe('INFERENCE_FAILED');
    expect(mapped.message).toBe('the completion failed: kv cache full');
  });

  it('says how to embed a text longer than one batch', () => {
    const mapped = mapWllamaError(
      new Error(
        'Model returned an error: input (706 tokens) is too large to process. increase the physical batch size (current batch size: 512)',
      ),
      { phase: 'inference', what: 'the embedding' },
    );
    expect(mapped.code).toBe('INVALID_REQUEST');
    expect(mapped.message).toBe(
      'the embedding: the input is 706 tokens, and this bridge embeds at most 512 at once (nBatch): split the text, or create the bridge with nBatch: 706 or more',
    );
  });
});

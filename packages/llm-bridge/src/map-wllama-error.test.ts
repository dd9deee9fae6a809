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
    });
    expect(mapped).toMatchObject({ code: 'MODEL_TOO_LARGE', requiredBytes: 4.45e9 });
    expect(mapped.message).toMatch(/4\.45 GB/);
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
});

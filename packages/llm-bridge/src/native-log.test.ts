import { describe, expect, it } from 'vitest';
import { isCpuDevice, NativeLogTap, quietLogger } from './native-log.js';

describe('NativeLogTap', () => {
  it('remembers the last error-looking line and forgets it once taken', () => {
    const tap = new NativeLogTap(quietLogger);
    tap.logger.debug('llama_model_loader: loaded meta data');
    tap.logger.debug(
      "llama_model_load: error loading model: tensor 'blk.0' data is not within the file bounds",
    );
    tap.logger.debug('print_info: done');
    expect(tap.take()).toMatch(/not within the file bounds/);
    expect(tap.take()).toBeUndefined();
  });

  it('collects the devices llama.cpp put model weights on', () => {
    const tap = new NativeLogTap(quietLogger);
    tap.logger.debug('load_tensors:          CPU model buffer size =     0.50 MiB');
    tap.logger.debug('load_tensors:       WebGPU model buffer size =  2400.00 MiB');
    tap.logger.debug('llama_kv_cache:        CPU KV buffer size =     0.12 MiB');
    expect(tap.takeWeightDevices()).toEqual(['CPU', 'WebGPU']);
    expect(tap.takeWeightDevices()).toEqual([]);
  });

  it('remembers the size of the allocation llama.cpp failed, once', () => {
    const tap = new NativeLogTap(quietLoggerForTests());
    tap.logger.error('ggml_aligned_malloc: insufficient memory (attempted to allocate 4612.01 MB)');
    expect(tap.takeAllocationFailure()).toEqual({ allocationBytes: Math.round(4612.01 * 2 ** 20) });
    expect(tap.takeAllocationFailure()).toEqual({});
    tap.logger.error('alloc_tensor_range: failed to allocate CPU buffer of size 4836000000');
    expect(tap.takeAllocationFailure()).toEqual({ allocationBytes: 4836000000 });
  });

  it('passes every line on to the wrapped logger', () => {
    const seen: string[] = [];
    const sink = (...args: unknown[]) => void seen.push(args.join(' '));
    const tap = new NativeLogTap({ debug: sink, log: sink, warn: sink, error: sink });
    tap.logger.log('a', 1);
    tap.logger.error('b');
    expect(seen).toEqual(['a 1', 'b']);
  });
});

describe('isCpuDevice', () => {
  it.each([
    ['CPU', true],
    ['CPU_Mapped', true],
    ['CPU_REPACK', true],
    ['WebGPU', false],
  ])('%s -> %s', (name, cpu) => {
    expect(isCpuDevice(name)).toBe(cpu);
  });
});

function quietLoggerForTests() {
  const none = () => undefined;
  return { debug: none, log: none, warn: none, error: none };
}

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { chooseWllamaBuild, hasRelaxedSimd, RELAXED_SIMD_PROBE } from './wllama-build.js';

describe('chooseWllamaBuild', () => {
  const env = { gpuOffload: false, compat: false, relaxedSimd: true };

  it('runs the CPU build from source without WebGPU, with relaxed SIMD where the browser has it', () => {
    expect(chooseWllamaBuild(env).build).toBe('cpu-relaxed-simd');
    expect(chooseWllamaBuild({ ...env, relaxedSimd: false }).build).toBe('cpu-simd128');
  });

  it("keeps WebGPU offload on wllama's npm build, and compat on the compat build", () => {
    expect(chooseWllamaBuild({ ...env, gpuOffload: true }).build).toBe('npm');
    expect(chooseWllamaBuild({ ...env, gpuOffload: true, compat: true }).build).toBe('compat');
    expect(chooseWllamaBuild({ ...env, compat: true }).reason).toMatch(/JSPI/);
  });

  it('honours a build asked for by name, and refuses one that cannot run the load', () => {
    expect(chooseWllamaBuild({ ...env, requested: 'cpu-simd128' })).toEqual({
      build: 'cpu-simd128',
      reason: "asked for (wllamaBuild: 'cpu-simd128')",
    });
    expect(chooseWllamaBuild({ ...env, requested: 'npm' }).build).toBe('npm');
    expect(() => chooseWllamaBuild({ ...env, requested: 'cpu-simd128', gpuOffload: true })).toThrow(
      /has no WebGPU/,
    );
    expect(() =>
      chooseWllamaBuild({ ...env, requested: 'cpu-relaxed-simd', relaxedSimd: false }),
    ).toThrow(/needs relaxed SIMD/);
    expect(() => chooseWllamaBuild({ ...env, requested: 'compat' })).toThrow(/compat option/);
  });
});

describe('hasRelaxedSimd', () => {
  const validate = (flags: string[]) =>
    spawnSync(
      process.execPath,
      [
        ...flags,
        '-e',
        `process.stdout.write(String(WebAssembly.validate(new Uint8Array([${RELAXED_SIMD_PROBE.join(',')}]))))`,
      ],
      { encoding: 'utf8' },
    ).stdout;

  it('is a valid module exactly where V8 has relaxed SIMD on', () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(validate(['--experimental-wasm-relaxed-simd'])).toBe('true');
    // Relaxed SIMD is on by default from Node 22 (V8 11.4+), off before.
    expect(validate([])).toBe(String(major >= 22));
    expect(hasRelaxedSimd()).toBe(major >= 22);
  });

  it('is not a module that any SIMD engine would accept: the probe uses the relaxed opcode', () => {
    // The same module with the plain SIMD128 opcode i32x4.dot_i16x8_s in place of the relaxed one
    // would validate everywhere; the probe's last instruction is 0xfd 0x93 0x02.
    expect(Array.from(RELAXED_SIMD_PROBE.slice(-4))).toEqual([253, 147, 2, 11]);
  });
});

// The wasm kernels' differential test, in pnpm test: each CPU variant's test program (built by
// native/build.sh against that variant's ggml, kernel-test/test-wasm-repack.cpp) compares the
// repacked Q4_K/Q6_K GEMM and GEMV with ggml's generic C kernels on random blocks (bit-equal where
// the math is integer-exact, within a stated bound otherwise) and runs MUL_MAT through ggml's CPU
// backend with and without the repack buffer. A new seed every run; a failure prints it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sidRoot as sidUserland } from '@the-edge-agent/test-fixtures';
import { cpuBuildDir } from '../scripts/cpu-wllama.mjs';

const dir = cpuBuildDir();
const sidRoot = sidUserland();
// memory64 and relaxed SIMD are on by default from Node 24 (V8 13.6).
const hostNodeRuns = Number(process.versions.node.split('.')[0]) >= 24;
const sidNode = existsSync(join(sidRoot, 'usr/bin/node'));

/** Runs `node <file> args` where memory64 and relaxed SIMD are on: this Node, or the sid userland's. */
function runNode(file: string, args: string[]) {
  if (hostNodeRuns) return spawnSync(process.execPath, [file, ...args], { encoding: 'utf8' });
  const inside = `/tmp/tea-kernel-test-${process.pid}`;
  mkdirSync(join(sidRoot, inside), { recursive: true });
  try {
    for (const f of ['kernel-test.cjs', 'kernel-test.wasm']) {
      const from = join(file, '..', f);
      if (existsSync(from)) copyFileSync(from, join(sidRoot, inside, f));
    }
    return spawnSync(
      'chroot',
      [
        sidRoot,
        '/usr/bin/env',
        '-i',
        'PATH=/usr/bin:/bin',
        'node',
        `${inside}/kernel-test.cjs`,
        ...args,
      ],
      { encoding: 'utf8' },
    );
  } finally {
    rmSync(join(sidRoot, inside), { recursive: true, force: true });
  }
}

describe.skipIf(!existsSync(join(dir, 'wllama-build.json')) || (!hostNodeRuns && !sidNode))(
  'wasm repack kernels vs ggml generic (native/kernel-test)',
  () => {
    for (const variant of ['simd128', 'relaxed']) {
      it(`${variant}: every case passes`, () => {
        const r = runNode(join(dir, variant, 'kernel-test.cjs'), [
          '--quick',
          '--no-bench',
          '--variant',
          variant,
        ]);
        const out = `${r.stdout}${r.stderr}`;
        expect(out, out).toMatch(new RegExp(`^PASS: ${variant} \\(0 failures\\)$`, 'm'));
        expect(r.status, out).toBe(0);
        // Built with the variant's instructions, and it really checked: exact, random and graph
        // cases for both types.
        expect(out).toContain(
          `(test built with ${variant === 'relaxed' ? 'relaxed-simd' : 'simd128'})`,
        );
        expect(out).toMatch(/correctness/);
        expect(out).toMatch(/graph \(GGML_OP_MUL_MAT/);
        expect(out).toMatch(/q4_K/);
        expect(out).toMatch(/q6_K/);
      }, 300_000);
    }
  },
);

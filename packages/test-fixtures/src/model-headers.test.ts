import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GGUFValueType } from '@huggingface/gguf';
import { describe, expect, it } from 'vitest';
import {
  GEMMA3N,
  gemma3nHeader,
  headerTensorBytes,
  q4kmMoreBits,
  quantizedOrder,
  writeSparseGguf,
} from './model-headers.js';
import { sidRoot } from './sid-root.js';

/**
 * What `llama-quantize … Q4_K_M` made of Gemma 3n, learned on 2026-11-29 with Debian sid's
 * llama.cpp-tools 1:0.7.0+dfsg-2 (build 11669): `llama-quantize --dry-run` on F16 files in the
 * full E4B and E2B shapes (the types llama.cpp's converter writes: F16 matrices, F32 norms and
 * AltUp coefficients, tied embeddings), and a real `llama-quantize` of a 2-layer one read back
 * with gguf-py. Sizes are the tool's "quant size" lines.
 */
const LEARNED = {
  global: {
    'altup_proj.weight': 'F16',
    'altup_unembd_proj.weight': 'F16',
    'output_norm.weight': 'F32',
    'per_layer_model_proj.weight': 'F16',
    'per_layer_proj_norm.weight': 'F32',
    'per_layer_token_embd.weight': 'Q6_K',
    'token_embd.weight': 'Q6_K',
  },
  layer: {
    altup_correct_coef: 'F32',
    altup_correct_scale: 'F32',
    altup_predict_coef: 'F32',
    altup_router: 'F16',
    altup_router_norm: 'F32',
    attn_k: 'Q4_K',
    attn_k_norm: 'F32',
    attn_norm: 'F32',
    attn_output: 'Q4_K',
    attn_q: 'Q4_K',
    attn_q_norm: 'F32',
    attn_v: 'Q4_K or Q6_K',
    ffn_down: 'Q4_K or Q6_K',
    ffn_gate: 'Q4_K',
    ffn_norm: 'F32',
    ffn_up: 'Q4_K',
    inp_gate: 'Q4_K',
    laurel_l: 'F16',
    laurel_post_norm: 'F32',
    laurel_r: 'F16',
    post_attention_norm: 'F32',
    post_ffw_norm: 'F32',
    post_norm: 'F32',
    proj: 'Q4_K',
  },
  /** Layers whose attn_v and ffn_down are Q6_K. */
  q6kLayers: {
    E4B: [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 31, 32, 33, 34],
    E2B: [0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 26, 27, 28, 29],
  },
  quantMiB: { E4B: 4612.02, E2B: 3147.4 },
} as const;

describe('gemma3nHeader (Q4_K_M types)', () => {
  for (const variant of ['E4B', 'E2B'] as const) {
    it(`${variant}: every tensor has the type llama-quantize gave it`, () => {
      const header = gemma3nHeader(variant);
      const q6k = new Set<number>(LEARNED.q6kLayers[variant]);
      for (const t of header.tensors) {
        const m = /^blk\.(\d+)\.(\w+)\.weight$/.exec(t.name);
        if (!m) {
          expect(t.type, t.name).toBe(LEARNED.global[t.name as keyof typeof LEARNED.global]);
          continue;
        }
        const kind = m[2] as keyof typeof LEARNED.layer;
        const layer = Number(m[1]);
        const want = LEARNED.layer[kind].includes(' or ')
          ? q6k.has(layer)
            ? 'Q6_K'
            : 'Q4_K'
          : LEARNED.layer[kind];
        expect(t.type, t.name).toBe(want);
      }
      expect(header.tensors).toHaveLength(7 + 24 * GEMMA3N[variant].layers);
      const mib = header.tensors.reduce((n, t) => n + headerTensorBytes(t), 0) / 2 ** 20;
      expect(mib).toBeCloseTo(LEARNED.quantMiB[variant], 2);
    });
  }

  it('q4kmMoreBits uses integer eighths (E4B: layers 0-3 and 30-34, not 4)', () => {
    const layers = (n: number) => [...Array(n).keys()].filter((i) => q4kmMoreBits(i, n));
    expect(layers(35)).toEqual(LEARNED.q6kLayers.E4B);
    expect(layers(30)).toEqual(LEARNED.q6kLayers.E2B);
  });
});

describe('quantizedOrder', () => {
  it('puts non-layer tensors first by name, then layers in numeric order, each by name', () => {
    const names = quantizedOrder(gemma3nHeader('E4B', { layers: 11, vocab: 512 }).tensors).map(
      (t) => t.name,
    );
    expect(names.slice(0, 9)).toEqual([
      'altup_proj.weight',
      'altup_unembd_proj.weight',
      'output_norm.weight',
      'per_layer_model_proj.weight',
      'per_layer_proj_norm.weight',
      'per_layer_token_embd.weight',
      'token_embd.weight',
      'blk.0.altup_correct_coef.weight',
      'blk.0.altup_correct_scale.weight',
    ]);
    expect(names.indexOf('blk.2.proj.weight')).toBeLessThan(names.indexOf('blk.10.attn_k.weight'));
    expect(names.at(-1)).toBe('blk.10.proj.weight');
  });
});

// The live check: Debian's llama-quantize in the offline toolchain's sid userland (installed by
// setup as llama.cpp-tools), where this machine has it and runs as root (chroot).
const sid = sidRoot();
const hasQuantize = process.getuid?.() === 0 && existsSync(join(sid, 'usr/bin/llama-quantize'));

describe.runIf(hasQuantize)("against llama.cpp's llama-quantize", () => {
  it('picks the same type for every tensor of E4B and E2B, in the same order', async () => {
    const dir = join(sid, 'tmp', `tea-q4km-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
      for (const variant of ['E4B', 'E2B'] as const) {
        const header = gemma3nHeader(variant);
        // The converter's F16 file: every tensor llama-quantize may quantize is F16.
        const f16 = header.tensors.map((t) => ({ ...t, type: t.type[0] === 'Q' ? 'F16' : t.type }));
        const f32 = (value: number) => ({ value, type: GGUFValueType.FLOAT32 });
        await writeSparseGguf(join(dir, `${variant}.gguf`), {
          metadata: {
            ...header.metadata,
            'general.file_type': { value: 1, type: GGUFValueType.UINT32 },
            'gemma3n.rope.freq_base': f32(1e6),
            'gemma3n.final_logit_softcapping': f32(30),
          },
          tensors: f16 as typeof header.tensors,
        });
        const file = `/tmp/tea-q4km-${process.pid}/${variant}.gguf`;
        const log = execFileSync(
          'chroot',
          [sid, '/usr/bin/env', '-i', 'PATH=/usr/bin:/bin', 'bash', '-c'].concat(
            `llama-quantize --dry-run ${file} Q4_K_M 2>&1`,
          ),
          { encoding: 'utf8', maxBuffer: 1 << 24 },
        );
        const picked = [
          ...log.matchAll(/\]\s+(\S+)\s+- \[[^\]]*\], type =\s+(\w+),[^\n]*?(?:\((\w+)\))?\n/g),
        ].map((m) => `${m[1]} ${(m[3] ?? m[2]!).toUpperCase()}`);
        const ours = quantizedOrder(header.tensors).map((t) => `${t.name} ${t.type}`);
        expect(picked).toEqual(ours);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { defineConfig } from 'vite';

// wllama's multi-thread build needs SharedArrayBuffer, which needs cross-origin isolation.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// The bench page compares the sdk with raw wllama: the stock build from npm, the 16 GiB one
// llm-bridge builds and bundles, and llm-bridge's CPU build from source (scripts/build-wllama.mjs
// writes these files).
const bridge = new URL('../../packages/llm-bridge/', import.meta.url).pathname;
const benchAliases = [
  { find: /^wllama-16g$/, replacement: `${bridge}vendor/wllama.js` },
  { find: /^wllama-16g-wasm\?url$/, replacement: `${bridge}wasm/wllama.wasm?url` },
  { find: /^wllama-cpu-glue$/, replacement: `${bridge}vendor/wllama-cpu-glue.js` },
  {
    find: /^wllama-cpu-relaxed-wasm\?url$/,
    replacement: `${bridge}wasm/wllama-cpu-relaxed.wasm?url`,
  },
  { find: /^wllama-cpu-simd128-wasm\?url$/, replacement: `${bridge}wasm/wllama-cpu.wasm?url` },
];

export default defineConfig(({ mode }) => ({
  base: './',
  resolve: { alias: mode === 'bench' ? benchAliases : [] },
  build: {
    target: 'es2022',
    sourcemap: true,
    // `--mode bench` builds the demo and the benchmark page (bench/, with raw wllama for
    // comparison) into dist-bench/, so that the demo's dist/ (which the release ships) has no bench.
    ...(mode === 'bench' ? { outDir: 'dist-bench' } : {}),
    rollupOptions: {
      input:
        mode === 'bench'
          ? { main: 'index.html', bench: 'bench/index.html' }
          : { main: 'index.html' },
    },
  },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
}));

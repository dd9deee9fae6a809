import { defineConfig } from 'vite';

// wllama's multi-thread build needs SharedArrayBuffer, which needs cross-origin isolation.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig(({ mode }) => ({
  base: './',
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

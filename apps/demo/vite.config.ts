import { defineConfig } from 'vite';

// wllama's multi-thread build needs SharedArrayBuffer, which needs cross-origin isolation.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  build: {
    target: 'es2022',
    sourcemap: true,
    // The demo, and a benchmark page (bench/) that also holds raw wllama for comparison.
    rollupOptions: { input: { main: 'index.html', bench: 'bench/index.html' } },
  },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
});

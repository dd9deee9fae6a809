import { defineConfig } from 'vite';

// wllama's multi-thread build needs SharedArrayBuffer, which needs cross-origin isolation.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  build: { target: 'es2022', sourcemap: true },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
});

import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from '../../../tools/chromium.js';

const PORT = 4176;

/** Benchmarks (not tests): `pnpm --filter @the-edge-agent/model-cache bench`. */
export default defineConfig({
  testDir: '.',
  testMatch: /\.bench\.ts$/,
  workers: 1,
  timeout: 15 * 60_000,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    launchOptions: chromiumLaunchOptions(['--disable-gpu']),
  },
  webServer: {
    command: `node tools/serve-static.mjs --root . --port ${PORT}`,
    cwd: '../../..',
    url: `http://127.0.0.1:${PORT}/package.json`,
    reuseExistingServer: false,
    stdout: 'ignore',
  },
});

import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './tools/chromium.js';
import { ISOLATED_PORT, PLAIN_PORT } from './tools/e2e-origins.js';

const serve = (port: number, extra = '') => ({
  command: `node tools/serve-static.mjs --root . --port ${port} ${extra}`,
  url: `http://127.0.0.1:${port}/package.json`,
  reuseExistingServer: !process.env['CI'],
  stdout: 'ignore' as const,
  timeout: 30_000,
});

export default defineConfig({
  testDir: '.',
  testMatch: /((packages|apps)\/[^/]+|scripts\/release)\/e2e\/.*\.spec\.ts$/,
  testIgnore: /node_modules/,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env['CI'],
  reporter: [['list']],
  timeout: 60_000,
  use: {
    baseURL: `http://127.0.0.1:${ISOLATED_PORT}`,
    trace: 'off',
    launchOptions: chromiumLaunchOptions(['--disable-gpu']),
  },
  projects: [{ name: 'chromium' }],
  webServer: [serve(ISOLATED_PORT), serve(PLAIN_PORT, '--no-isolation')],
});

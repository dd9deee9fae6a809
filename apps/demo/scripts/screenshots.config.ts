import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from '../../../tools/chromium.js';
import { ISOLATED_ORIGIN, ISOLATED_PORT } from '../../../tools/e2e-origins.js';

// `pnpm --filter @the-edge-agent/demo screenshots`: the README's screenshots of the built demo
// (run `build` first), served with COOP/COEP by the repository's test server.
export default defineConfig({
  testDir: '.',
  testMatch: /screenshots\.ts$/,
  workers: 1,
  reporter: [['list']],
  timeout: 120_000,
  use: { baseURL: ISOLATED_ORIGIN, launchOptions: chromiumLaunchOptions(['--disable-gpu']) },
  webServer: {
    command: `node tools/serve-static.mjs --root . --port ${ISOLATED_PORT}`,
    cwd: '../../..',
    url: `${ISOLATED_ORIGIN}/package.json`,
    reuseExistingServer: true,
    stdout: 'ignore',
  },
});

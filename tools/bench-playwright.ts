import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './chromium.js';

/**
 * The Playwright config of a package's browser benchmarks (`bench/*.bench.ts`, not tests): one
 * worker, long timeouts, the repository root served on `port` with COOP/COEP.
 */
export function benchConfig(port: number, extraArgs: string[] = []) {
  return defineConfig({
    testDir: '.',
    testMatch: /\.bench\.ts$/,
    workers: 1,
    timeout: 15 * 60_000,
    reporter: [['list']],
    use: {
      baseURL: `http://127.0.0.1:${port}`,
      launchOptions: chromiumLaunchOptions(['--disable-gpu', ...extraArgs]),
    },
    webServer: {
      command: `node tools/serve-static.mjs --root . --port ${port}`,
      cwd: new URL('..', import.meta.url).pathname,
      url: `http://127.0.0.1:${port}/package.json`,
      reuseExistingServer: !process.env['CI'],
      stdout: 'ignore',
    },
  });
}

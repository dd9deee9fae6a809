import { existsSync } from 'node:fs';
import { chromium, defineConfig } from '@playwright/test';

/** Test-server ports: one with COOP/COEP (cross-origin isolated), one without. */
export const ISOLATED_PORT = 4173;
export const PLAIN_PORT = 4174;

/**
 * Which Chromium to drive: $TEA_CHROMIUM_PATH, else Playwright's own browser where one is
 * installed (GitHub CI), else Debian's /usr/bin/chromium (offline machines).
 */
function chromiumPath(): string | undefined {
  const fromEnv = process.env['TEA_CHROMIUM_PATH'];
  if (fromEnv) return fromEnv;
  let bundled = '';
  try {
    bundled = chromium.executablePath();
  } catch {
    // No Playwright browser installed.
  }
  if (bundled && existsSync(bundled)) return undefined;
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  throw new Error(
    'No Chromium found: run the setup command, install Debian\'s "chromium", or set TEA_CHROMIUM_PATH',
  );
}

const executablePath = chromiumPath();
const serve = (port: number, extra = '') => ({
  command: `node tools/serve-static.mjs --root . --port ${port} ${extra}`,
  url: `http://127.0.0.1:${port}/package.json`,
  reuseExistingServer: !process.env['CI'],
  stdout: 'ignore' as const,
  timeout: 30_000,
});

export default defineConfig({
  testDir: '.',
  testMatch: /(packages|apps)\/[^/]+\/e2e\/.*\.spec\.ts$/,
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
    launchOptions: {
      ...(executablePath ? { executablePath } : {}),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [{ name: 'chromium' }],
  webServer: [serve(ISOLATED_PORT), serve(PLAIN_PORT, '--no-isolation')],
});

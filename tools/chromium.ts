import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';

/**
 * Which Chromium the browser tests drive: $TEA_CHROMIUM_PATH, else Playwright's own browser
 * where one is installed (GitHub CI), else Debian's /usr/bin/chromium (offline machines).
 * `undefined` means "Playwright's own".
 */
export function chromiumExecutable(): string | undefined {
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

/** Headless flags that keep Chromium quiet on a closed network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launch options for a spec that needs extra Chromium flags (e.g. software WebGPU). */
export function chromiumLaunchOptions(extraArgs: string[] = []) {
  const executablePath = chromiumExecutable();
  return { ...(executablePath ? { executablePath } : {}), args: [...CHROMIUM_ARGS, ...extraArgs] };
}

/**
 * A Chromium context with a real (temporary) profile, as a user's browser has: large Blobs and
 * IndexedDB go to disk there, while the default incognito-like context keeps them in memory
 * (about 2 GB in all). `close()` also removes the profile.
 */
export async function persistentContext(baseURL: string | undefined, extraArgs: string[] = []) {
  const profile = mkdtempSync(join(tmpdir(), 'tea-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...chromiumLaunchOptions(['--disable-gpu', ...extraArgs]),
    ...(baseURL ? { baseURL } : {}),
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

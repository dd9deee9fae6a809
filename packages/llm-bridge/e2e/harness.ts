import type { Page } from '@playwright/test';
import type { Wllama } from '@wllama/wllama';
import type * as BridgeModule from '../src/index.js';

/** What e2e/bridge.html puts on `window`: the built bridge and raw wllama. */
export interface Harness {
  bridgeModule: typeof BridgeModule;
  Wllama: typeof Wllama;
  /** A bridge with one thread, a 256-token context and no WebGPU, the model at `url` loaded. */
  loadedBridge(url: string): Promise<BridgeModule.LlmBridge>;
}

declare global {
  interface Window {
    harness: Harness;
    harnessReady?: boolean;
  }
}

/** Opens the harness page (on the isolated server by default) and waits for its imports. */
export async function openHarness(page: Page, origin = ''): Promise<void> {
  await page.goto(`${origin}/packages/llm-bridge/e2e/bridge.html`);
  await page.waitForFunction(() => window.harnessReady === true);
}

/** An error's code and message, as a test compares them. */
export interface CodedFailure {
  code: string;
  message: string;
}

import { benchConfig } from '../../../tools/bench-playwright.js';

/** Benchmarks (not tests): `pnpm --filter @the-edge-agent/llm-bridge bench`. */
export default benchConfig(4175);

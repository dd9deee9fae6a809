import { benchConfig } from '../../../tools/bench-playwright.js';

/** Benchmarks (not tests): `pnpm --filter @the-edge-agent/model-cache bench`. */
export default benchConfig(4176);

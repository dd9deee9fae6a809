import { benchConfig } from '../../../tools/bench-playwright.js';

/** Benchmarks (not tests): `pnpm --filter @the-edge-agent/demo bench`. */
export default benchConfig(4177);

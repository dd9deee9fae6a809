import { benchConfig } from '../../../tools/bench-playwright.js';

/** Benchmarks (not tests): `pnpm --filter @the-edge-agent/model-loader bench`. */
export default benchConfig(4178, ['--enable-precise-memory-info']);

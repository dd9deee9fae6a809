import { packageConfig } from '../../tools/tsup-config';

// Node-only: the generator streams models to disk. `contracts` holds vitest suites that packages
// run against their own implementations; vitest stays external (the running one is used).
export default packageConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/contracts.ts'],
  platform: 'node',
  external: ['vitest'],
});

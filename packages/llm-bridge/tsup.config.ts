import { fileURLToPath } from 'node:url';
import type { Options } from 'tsup';
import { packageConfig } from '../../tools/tsup-config';

// The bundle carries wllama itself, in the 16 GiB build made by scripts/build-wllama.mjs
// (vendor/wllama.js): an npm install of @wllama/wllama would bring the stock 4 GiB build.
type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

const patchedWllama: EsbuildPlugin = {
  name: 'patched-wllama',
  setup(build) {
    build.onResolve({ filter: /^@wllama\/wllama$/ }, () => ({
      path: fileURLToPath(new URL('./vendor/wllama.js', import.meta.url)),
    }));
  },
};

export default packageConfig({
  noExternal: ['@wllama/wllama'],
  esbuildPlugins: [patchedWllama],
});

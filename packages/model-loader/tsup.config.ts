import { packageConfig } from '../../tools/tsup-config';

// Two entries: the browser + Node library (`src/index.ts`) and the Node-only `tea-model` CLI.
export default packageConfig({
  entry: { index: 'src/index.ts', 'cli/main': 'src/cli/main.ts' },
  external: [/^node:/],
});

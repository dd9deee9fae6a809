import { packageConfig } from '../../tools/tsup-config';

// The example workflows are bundled as text from @the-edge-agent/core-wasm/examples (the rest
// of the dependencies stay external).
export default packageConfig({ loader: { '.yaml': 'text' }, noExternal: [/\.yaml$/] });

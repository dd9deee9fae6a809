import { packageConfig } from '../../tools/tsup-config';

// The JSON Schema validator of structured output is bundled: pages that load the package through
// an import map (the plain-HTML example, the release tarball) need no extra entry for it.
export default packageConfig({ noExternal: ['@cfworker/json-schema'] });

import { packageConfig } from '../../tools/tsup-config';

// Node-only: the generator streams models to disk.
export default packageConfig({ entry: ['src/index.ts', 'src/cli.ts'], platform: 'node' });

import { mergeConfig } from 'vitest/config';
import shared from '../../tools/vitest-config';

// The sdk bundles the engine's example workflows as text (tsup's `.yaml` text loader); the tests
// run the sources, so load `.yaml` as text here too.
export default mergeConfig(shared, {
  plugins: [
    {
      name: 'yaml-as-text',
      transform(code: string, id: string) {
        return id.endsWith('.yaml') ? `export default ${JSON.stringify(code)};` : undefined;
      },
    },
  ],
});

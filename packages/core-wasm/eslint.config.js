import root from '../../eslint.config.js';

// The repository's rules, plus one of this package's own: wasm-bindgen's generated glue
// (wasm/tea_core.js) is imported by src/wasm-glue.ts only; everything else goes through it.
export default [
  ...root,
  {
    files: ['**/*.{ts,mts,js,mjs}'],
    ignores: ['src/wasm-glue.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)wasm/tea_core(\\.js)?$',
              message:
                "import the engine's bindings from src/wasm-glue.ts, the one module that talks to wasm-bindgen's glue",
            },
          ],
        },
      ],
    },
  },
];

import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/dist-bench/**',
      '.tmp/**',
      'release/**',
      '**/node_modules/**',
      '**/wasm/**',
      '**/vendor/**',
      '**/target/**',
      '**/.nx/**',
      'test-results/**',
      'playwright-report/**',
      // Scratch copies of README examples that the sdk's test compiles while lint may run.
      '**/.readme-check-*/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: {
        window: 'readonly',
        document: 'readonly',
        navigator: 'readonly',
        console: 'readonly',
        process: 'readonly',
        URL: 'readonly',
        crossOriginIsolated: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // TypeScript checks names in .ts; the .mjs tools and benchmarks run on Node's globals.
      'no-undef': 'off',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: [
      'tools/**',
      '**/scripts/**',
      '**/bench/**',
      '**/bin/**',
      '**/src/cli.ts',
      '**/src/cli/**',
      '**/*.config.ts',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    // Benchmarks poke at page globals; the tests and sources stay strict.
    files: ['**/bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);

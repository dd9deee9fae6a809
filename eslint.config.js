import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// "Files small and named for what they do": no class over 300 lines in library code (ESLint has
// max-lines-per-function for functions, nothing for classes).
const maxClassLines = {
  meta: {
    type: 'suggestion',
    schema: [{ type: 'integer', minimum: 1 }],
    messages: {
      tooLong: 'class {{name}} has {{lines}} lines (at most {{max}}): split it by concern',
    },
  },
  create(context) {
    const max = context.options[0] ?? 300;
    const check = (node) => {
      const lines = node.loc.end.line - node.loc.start.line + 1;
      if (lines > max)
        context.report({
          node,
          messageId: 'tooLong',
          data: { name: node.id?.name ?? '(anonymous)', lines, max },
        });
    };
    return { ClassDeclaration: check, ClassExpression: check };
  },
};

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
    // Library code: no function over 80 lines, no class over 300 (ARCHITECTURE.md, "Size").
    files: ['packages/*/src/**/*.ts', 'apps/*/src/**/*.ts', 'src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.test-d.ts', '**/*.test-helper.ts', '**/*.d.ts'],
    plugins: { repo: { rules: { 'max-class-lines': maxClassLines } } },
    rules: {
      'max-lines-per-function': [
        'error',
        { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true },
      ],
      'repo/max-class-lines': ['error', 300],
    },
  },
  {
    // Benchmarks poke at page globals; the tests and sources stay strict.
    files: ['**/bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);

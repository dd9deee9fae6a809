// The import graph's rules (ARCHITECTURE.md, "Layers"), checked by `pnpm lint` and `pnpm test`
// (`pnpm check-imports`, part of `lint-root`). A workspace package resolves to its built `dist/` when it is
// built and stays its name when it is not; the rules match both.
const LAYERS = ['core-wasm', 'llm-bridge', 'model-loader', 'model-cache'];
const TEST = '(\\.test(-d)?\\.ts|\\.test-helper\\.ts|\\.spec\\.ts)$|/(e2e|bench)/';
/** Another workspace package than `own`, by path or by name. */
const other = (own) => `^(packages/(?!${own}/)[^/]+/|@the-edge-agent/(?!${own}$))`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import loops hide which module owns what; break them with a module both use.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...LAYERS.map((layer) => ({
      name: `layer-${layer}`,
      comment: `The four layers do not import each other: ${layer}'s library code imports no other workspace package (the sdk composes them; shared shapes are checked by the sdk's type tests).`,
      severity: 'error',
      from: { path: `^packages/${layer}/src/`, pathNot: TEST },
      to: { path: other(layer) },
    })),
    {
      name: 'sdk-through-entries',
      comment: 'The sdk uses each layer through its package entry, never a file of its src.',
      severity: 'error',
      from: { path: '^packages/sdk/src/' },
      to: { path: '^packages/(?!sdk/)[^/]+/(src|e2e|bench)/' },
    },
    {
      name: 'demo-uses-the-sdk-only',
      comment: "The demo uses only the sdk's public API (that keeps the facade honest).",
      severity: 'error',
      from: { path: '^apps/demo/(src|e2e)/' },
      to: { path: '^(packages/(?!sdk/)|@the-edge-agent/(?!sdk$))' },
    },
    {
      name: 'no-test-code-in-src',
      comment: 'Library code imports no test fixture or test helper.',
      severity: 'error',
      from: { path: '^packages/(?!test-fixtures/)[^/]+/src/', pathNot: TEST },
      to: { path: `(${TEST})|^(packages/test-fixtures/|@the-edge-agent/test-fixtures)` },
    },
    {
      name: 'tests-stay-in-their-package',
      comment:
        "A package's tests, e2e and benchmarks import another package only through its entry (or test-fixtures, or tools/), never its src, e2e or bench folders.",
      severity: 'error',
      from: { path: '^(packages|apps)/([^/]+)/' },
      to: {
        path: '^(packages|apps)/[^/]+/(src|e2e|bench)/',
        pathNot: ['^$1/$2/', '^packages/test-fixtures/src/'],
      },
    },
    {
      name: 'no-import-back-up',
      comment:
        'Lower layers and the fixtures never import the sdk (or the demo), not even in tests: the dependency runs downwards only.',
      severity: 'error',
      from: { path: `^packages/(${LAYERS.join('|')}|test-fixtures)/` },
      to: { path: '^(packages/sdk/|apps/|@the-edge-agent/sdk$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules|/dist/' },
    exclude: { path: '(^|/)(node_modules|dist|dist-bench|wasm|target|\\.tmp)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

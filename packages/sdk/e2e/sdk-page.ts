/**
 * A test page that loads the built sdk and its layers through an import map, as the plain-HTML
 * example does (paths from the served repository root), then runs `script` as a module.
 */
export function sdkPage(script: string): string {
  return `<!doctype html><script type="importmap">{"imports":{
      "@the-edge-agent/sdk":"/packages/sdk/dist/index.js",
      "@the-edge-agent/core-wasm":"/packages/core-wasm/dist/index.js",
      "@the-edge-agent/model-loader":"/packages/model-loader/dist/index.js",
      "@the-edge-agent/model-cache":"/packages/model-cache/dist/index.js",
      "@the-edge-agent/llm-bridge":"/packages/llm-bridge/dist/index.js",
      "idb":"/packages/model-cache/node_modules/idb/build/index.js",
      "hash-wasm":"/packages/model-loader/node_modules/hash-wasm/dist/index.esm.js"}}</script>
    <script type="module">${script}</script>`;
}

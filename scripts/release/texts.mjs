// The texts that go into the tarball: NOTICE.md and SERVING.md.

export function noticeText(version, deps) {
  const dep = (name) => `${name} ${deps[name].version} (${deps[name].license})`;
  return `# tea-wasm-llm ${version}: notices

tea-wasm-llm is licensed under the Apache License 2.0 (LICENSE). It bundles:

- ${dep('@wllama/wllama')}: llama.cpp in WebAssembly, bundled into
  lib/@the-edge-agent/llm-bridge (dist/index.js and wasm/wllama.wasm) with its memory64
  maximum raised from 4 GiB to 16 GiB; what was changed is recorded in
  lib/@the-edge-agent/llm-bridge/wasm/wllama-build.json. License: licenses/@wllama__wllama.txt.
  wllama.wasm contains llama.cpp and ggml (MIT, Copyright (c) 2023-2024 The ggml authors,
  https://github.com/ggml-org/llama.cpp). wasm/wllama-cpu.wasm and wasm/wllama-cpu-relaxed.wasm
  are built from source from wllama's glue (MIT) and the llama.cpp tree in the node-llama-cpp
  npm package (MIT, the ggml authors), with this project's ggml kernels (Apache-2.0); every input
  and output hash is in lib/@the-edge-agent/llm-bridge/wasm/wllama-cpu-build.json.
- ${dep('idb')}: IndexedDB with promises (lib/idb). License: licenses/idb.txt.
- ${dep('hash-wasm')}: incremental SHA-256 (lib/hash-wasm). License: licenses/hash-wasm.txt.
- The Rust crates compiled into lib/@the-edge-agent/core-wasm/wasm/tea_core_bg.wasm, each under
  the license it declares: licenses/rust-crates.md.

The demo app (index.html, assets/) is a bundle of the same packages and dependencies.
Model files are not part of this archive: each model keeps its own license (Gemma models: the
Gemma Terms of Use, https://ai.google.dev/gemma/terms; the release's Gemma assets come with
GEMMA-NOTICE.txt).
`;
}

/** The notice that goes with redistributed Gemma model files (Gemma Terms of Use, section 3.1). */
export function gemmaNotice(ids) {
  return `Gemma is provided under and subject to the Gemma Terms of Use found at
ai.google.dev/gemma/terms

The model files of this release named ${ids.join(', ')} (the gguf-split shards
<id>-0000i-of-0000N.gguf and <id>.manifest.json) are Gemma models, redistributed unmodified except
for being split into shards (llama.cpp's gguf-split format) from the GGUF files named in
scripts/release/models.config.json. Their use is subject to the Gemma Terms of Use and the Gemma
Prohibited Use Policy (ai.google.dev/gemma/prohibited_use_policy), which you agree to pass on to
anyone you redistribute them to.
`;
}

export function serveText(version) {
  const dir = `tea-wasm-llm-${version}`;
  return `# Serving tea-wasm-llm ${version}

Everything here is static. Served from one origin, the demo and the example page make no
request to any other origin: the code, the wasm files and the models all come from this folder.

## 1. Put the models beside the app

Download the model assets of the same release into \`models/\`:

\`\`\`sh
tar xzf ${dir}.tar.gz
gh release download v${version} -D ${dir}/models -p 'models.json' -p '*.manifest.json' -p '*.gguf'
npx -p @the-edge-agent/model-loader tea-model verify ${dir}/models/<profile>.manifest.json   # optional
\`\`\`

\`models/models.json\` lists the profiles best first; the app picks the first one that fits the
browser (WebGPU or CPU-only) before downloading anything. Each model is split into GGUF shards
under 512 MiB, verified by SHA-256 and cached in IndexedDB on the first visit.

## 2. Serve it with the cross-origin isolation headers

Multi-threaded inference needs \`Cross-Origin-Opener-Policy: same-origin\` and
\`Cross-Origin-Embedder-Policy: require-corp\`. Without them everything still works, single-threaded.
\`.wasm\` must be served as \`application/wasm\`.

\`npx serve\` reads the \`serve.json\` in this folder, which sets the headers:

\`\`\`sh
npx serve ${dir}
\`\`\`

nginx:

\`\`\`nginx
server {
  listen 8080;
  root /srv/${dir};
  include mime.types;            # maps .wasm to application/wasm
  add_header Cross-Origin-Opener-Policy same-origin always;
  add_header Cross-Origin-Embedder-Policy require-corp always;
}
\`\`\`

Caddy:

\`\`\`caddy
:8080 {
  root * /srv/${dir}
  file_server
  header Cross-Origin-Opener-Policy same-origin
  header Cross-Origin-Embedder-Policy require-corp
}
\`\`\`

Then open \`/\` (the demo) or \`/example.html\` (a plain page using the packages in \`lib/\`
through an import map).

## Layout

| path | what |
| --- | --- |
| \`index.html\`, \`assets/\` | the demo app |
| \`example.html\` | a plain HTML page: \`initTeaLlm\` + a YAML workflow, no bundler |
| \`lib/@the-edge-agent/*\` | the npm packages as published (ESM, \`.d.ts\`, core \`.wasm\`, wllama \`.wasm\`) |
| \`lib/idb\`, \`lib/hash-wasm\`, \`lib/@huggingface/*\` | their browser dependencies (ESM; the GGUF header reader is loaded only for GGUF URLs; wllama is bundled into llm-bridge) |
| \`models/\` | the model assets (you add them, step 1) |
| \`LICENSE\`, \`NOTICE.md\`, \`licenses/\` | licenses of everything bundled |
`;
}

/** serve.json for \`npx serve\`: the COOP/COEP headers. */
export const SERVE_JSON = {
  headers: [
    {
      source: '**/*',
      headers: [
        { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
        { key: 'Cross-Origin-Embedder-Policy', value: 'require-corp' },
      ],
    },
  ],
};

/**
 * The one module that talks to wasm-bindgen's generated glue (`wasm/tea_core.js`, written by
 * `scripts/rust.sh build` from `crate/src/wasm.rs`); the package's lint rule forbids importing
 * the glue anywhere else, so a change in the glue's shape is met here. Every engine binding is
 * synchronous and speaks JSON text (an engine error comes back as `{ error }`, never thrown):
 * call them through `call()` in `instance.ts`, which turns a trap into `WASM_TRAPPED`.
 */
export {
  // The instance: instantiate (async, the first time), replace after a trap (`__tea_reset` is
  // added to the glue by scripts/patch-glue.mjs), and what it reports about itself.
  default as instantiateGlue,
  initSync,
  __tea_reset,
  engine_facts,
  trap_report_addresses,
  version,
  // Workflows, templates and validation.
  workflow_parse,
  workflow_free,
  validate_yaml,
  render_template,
  // Runs, polled by run.ts.
  run_start,
  run_poll,
  run_reply,
  run_free,
  // The LLM contract of llmCallAsync / llmEmbedAsync.
  llm_request,
  llm_reply,
} from '../wasm/tea_core.js';

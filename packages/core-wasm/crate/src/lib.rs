//! The Edge Agent's YAML workflow engine for the browser.
//!
//! Pure-Rust modules (`source`, `model`, `validate`, `template`, `state`, `exec`, `engine`) hold
//! the logic and are tested natively with `cargo test`; `wasm` binds them to JavaScript.

pub mod driver;
pub mod engine;
pub mod error;
pub mod exec;
pub mod heap;
pub mod jinja_filters;
pub mod json_view;
pub mod limits;
pub mod llm;
pub mod model;
pub mod py_methods;
pub mod pyfmt;
pub mod pyformat;
pub mod sha256;
pub mod source;
pub mod state;
pub mod template;
pub mod template_rewrite;
pub mod validate;
mod wasm;
pub mod yaml_aliases;
pub mod yaml_depth;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static HEAP: heap::CappedHeap = heap::CappedHeap;

#[cfg(test)]
mod exec_tests;

/// The engine's version (the crate version, baked in at compile time).
pub fn engine_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

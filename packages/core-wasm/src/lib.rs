//! The Edge Agent's YAML workflow engine for the browser.
//!
//! Pure-Rust modules (`source`, `model`, `validate`, `template`, `state`, `exec`, `engine`) hold
//! the logic and are tested natively with `cargo test`; `wasm` binds them to JavaScript.

pub mod engine;
pub mod error;
pub mod exec;
pub mod model;
pub mod source;
pub mod state;
pub mod template;
pub mod validate;
mod wasm;

#[cfg(test)]
mod exec_tests;

use wasm_bindgen::prelude::*;

/// The engine's version (the crate version, baked in at compile time).
pub fn engine_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Returns the engine's version string, computed inside the wasm module.
#[wasm_bindgen]
pub fn version() -> String {
    engine_version().to_string()
}

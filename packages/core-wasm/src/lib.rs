//! The Edge Agent's YAML workflow engine for the browser.
//!
//! This crate is compiled to `wasm32-unknown-unknown` and exposed to JavaScript with
//! wasm-bindgen; the pure-Rust logic is also tested natively with `cargo test`.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_the_crate_version() {
        assert_eq!(version(), env!("CARGO_PKG_VERSION"));
        assert_eq!(version().split('.').count(), 3);
    }
}

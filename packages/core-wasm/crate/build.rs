//! Links the wasm module with an 8 MiB stack (Rust's default is 1 MiB): templates, YAML and JSON
//! are walked recursively up to the engine's limits (src/limits.rs), and those limits are sized
//! to fit this stack with room to spare.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=8388608");
    }
    println!("cargo:rerun-if-changed=build.rs");
}

//! The engine's limits: every recursive walk and every size is bounded, so that no input can
//! exhaust the wasm stack or heap. Each limit has its own error code (see the README's table).

use crate::error::{Code, EngineError, Result};
use serde_json::{json, Value};

/// Largest workflow YAML, in bytes (`TOO_LARGE`). Parsing 256 KiB of the worst shapes takes
/// ~0.3 s in wasm; real workflows are a few KiB.
pub const MAX_YAML_BYTES: usize = 256 << 10;
/// Most nodes (scalars and collections) a workflow's YAML may hold once its aliases are expanded
/// (`TOO_LARGE`): the guard against "billion laughs".
pub const MAX_YAML_NODES: u64 = 200_000;
/// Deepest nesting of collections in a workflow's YAML (`TOO_DEEP`, with line and column).
pub const MAX_YAML_DEPTH: usize = 64;
/// Deepest nesting of a JSON value crossing the JavaScript boundary or built by a template
/// (state, variables, action results, LLM replies; `TOO_DEEP`, with the path).
pub const MAX_DEPTH: usize = 100;
/// Largest JSON text crossing the JavaScript boundary in one piece (`TOO_LARGE`).
pub const MAX_JSON_BYTES: usize = 16 << 20;
/// Most segments in a dotted `output:` path (`VALIDATION` at parse time).
pub const MAX_OUTPUT_SEGMENTS: usize = 32;
/// Instructions one template may execute (minijinja fuel; `TEMPLATE_BUDGET`). Measured in the
/// README: about 20 ms of template work in Chromium on a slow laptop core.
pub const TEMPLATE_FUEL: u64 = 400_000;
/// Largest text one template may render, in bytes (`TOO_LARGE`).
pub const MAX_TEMPLATE_OUTPUT: usize = 4 << 20;
/// Deepest nesting in a template at run time, in minijinja's units (a loop or `if` counts 1, a
/// macro call about 10; `TEMPLATE`).
pub const TEMPLATE_RECURSION: usize = 250;
/// Most operators (`.`, `|`, `+`, `not`, ...) in one `{{ }}` or `{% %}` block: minijinja parses
/// and compiles an operator chain recursively, and a chain of ~6,000 exhausts the browser's stack
/// (`TEMPLATE`).
pub const MAX_TEMPLATE_OPERATORS: usize = 1000;
/// Most milliseconds of work between two yields to the event loop (abort and painting).
pub const SLICE_MS: f64 = 8.0;
/// Most bytes the engine's heap may hold; past it an allocation fails and the instance traps
/// (the JavaScript side reports `WASM_TRAPPED` and starts a fresh instance).
pub const HEAP_LIMIT: usize = 512 << 20;

/// Most branches one `dynamic_parallel` node starts (each runs on a copy of the state).
pub const MAX_PARALLEL_BRANCHES: usize = 1000;
/// Most retries `max_retries` (of `llm.call` or a node's `retry:`) may ask for.
pub const MAX_RETRIES: u64 = 100;

/// The limits as JSON, for the JavaScript side (one owner: these constants).
pub fn as_json() -> Value {
    json!({
        "maxYamlBytes": MAX_YAML_BYTES,
        "maxYamlDepth": MAX_YAML_DEPTH,
        "maxYamlNodes": MAX_YAML_NODES,
        "maxDepth": MAX_DEPTH,
        "maxJsonBytes": MAX_JSON_BYTES,
        "maxOutputSegments": MAX_OUTPUT_SEGMENTS,
        "templateFuel": TEMPLATE_FUEL,
        "maxTemplateOutput": MAX_TEMPLATE_OUTPUT,
        "templateRecursion": TEMPLATE_RECURSION,
        "maxTemplateOperators": MAX_TEMPLATE_OPERATORS,
        "sliceMs": SLICE_MS,
        "heapLimit": HEAP_LIMIT,
        "maxParallelBranches": MAX_PARALLEL_BRANCHES,
        "maxRetries": MAX_RETRIES,
    })
}

/// Whether `v` nests deeper than `limit` (iterative; allocates only for nested containers).
fn exceeds(v: &Value, limit: usize) -> bool {
    fn nested(c: &&Value) -> bool {
        c.is_array() || c.is_object()
    }
    let mut stack: Vec<(&Value, usize)> = vec![(v, 1)];
    while let Some((v, depth)) = stack.pop() {
        match v {
            Value::Array(_) | Value::Object(_) if depth > limit => return true,
            Value::Array(items) => stack.extend(items.iter().filter(nested).map(|c| (c, depth + 1))),
            Value::Object(m) => stack.extend(m.values().filter(nested).map(|c| (c, depth + 1))),
            _ => {}
        }
    }
    false
}

/// The path (`a.b[3]`) of the first place where `v` nests deeper than `limit`, if any. Iterative,
/// so it cannot itself run out of stack.
pub fn too_deep_at(v: &Value, limit: usize) -> Option<String> {
    if !exceeds(v, limit) {
        return None;
    }
    let mut stack: Vec<(&Value, usize, String)> = vec![(v, 0, String::new())];
    while let Some((v, depth, path)) = stack.pop() {
        let children: Vec<(&Value, String)> = match v {
            Value::Array(items) => items.iter().enumerate().map(|(i, x)| (x, format!("{path}[{i}]"))).collect(),
            Value::Object(m) => m.iter().map(|(k, x)| (x, if path.is_empty() { k.clone() } else { format!("{path}.{k}") })).collect(),
            _ => continue,
        };
        if depth + 1 > limit {
            return Some(path);
        }
        for (child, p) in children {
            if child.is_array() || child.is_object() {
                stack.push((child, depth + 1, p));
            }
        }
    }
    None
}

/// `TOO_DEEP` naming `what` and the path, when `v` nests deeper than `MAX_DEPTH`.
pub fn check_depth(v: &Value, what: &str) -> Result<()> {
    match too_deep_at(v, MAX_DEPTH) {
        None => Ok(()),
        Some(path) => {
            let at = if path.is_empty() { String::new() } else { format!(" at {path}") };
            Err(EngineError::new(Code::TooDeep, format!("{what} nests deeper than {MAX_DEPTH} levels{at}")))
        }
    }
}

/// Parses JSON text from JavaScript with the size and depth limits; `what` names it in errors.
pub fn parse_json(text: &str, what: &str) -> Result<Value> {
    if text.len() > MAX_JSON_BYTES {
        return Err(EngineError::new(
            Code::TooLarge,
            format!("{what} is {} bytes of JSON, over the limit of {MAX_JSON_BYTES}", text.len()),
        ));
    }
    let v: Value = serde_json::from_str(text).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            EngineError::new(Code::TooDeep, format!("{what} nests deeper than {MAX_DEPTH} levels"))
        } else {
            EngineError::new(Code::InvalidArgument, format!("{what} is not valid JSON: {e}"))
        }
    })?;
    check_depth(&v, what)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: usize) -> Value {
        let mut v = json!(1);
        for _ in 0..n {
            v = json!({ "k": v });
        }
        v
    }

    #[test]
    fn depth_limit_names_the_path() {
        assert!(check_depth(&nested(MAX_DEPTH), "state").is_ok());
        let err = check_depth(&nested(MAX_DEPTH + 1), "state").unwrap_err();
        assert_eq!(err.code, Code::TooDeep);
        assert!(err.message.contains("k.k.k"), "{}", err.message);
    }

    #[test]
    fn json_over_serde_limits_is_too_deep_not_a_crash() {
        let text = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(parse_json(&text, "state").unwrap_err().code, Code::TooDeep);
        assert_eq!(parse_json("{", "state").unwrap_err().code, Code::InvalidArgument);
    }
}

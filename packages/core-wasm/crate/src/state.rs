//! State helpers: initial state from the schema, dotted outputs, and merging branch results.

use crate::error::{Code, EngineError, Result};
use crate::model::{FieldDef, MergeStrategy};
use serde_json::{Map, Value};

/// Fills declared defaults, then checks declared types, naming the field that is wrong.
pub fn initial_state(schema: &[FieldDef], given: Value) -> Result<Value> {
    let mut state = match given {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => return Err(EngineError::new(Code::InvalidArgument, format!("the initial state must be an object, got {}", kind(&other)))),
    };
    for field in schema {
        if !state.contains_key(&field.name) {
            if let Some(d) = &field.default {
                state.insert(field.name.clone(), d.clone());
            }
        }
        if let (Some(ty), Some(v)) = (&field.ty, state.get(&field.name)) {
            if !type_matches(ty, v) {
                return Err(EngineError::new(
                    Code::StateSchema,
                    format!("state field '{}' must be {ty} (state_schema), got {}", field.name, kind(v)),
                ));
            }
        }
    }
    Ok(Value::Object(state))
}

/// Whether `v` fits a `state_schema` type (Python typing forms included: `Optional[str]`
/// allows null, `List[str]` is a list).
fn type_matches(ty: &str, v: &Value) -> bool {
    let Some(kind) = crate::model::schema_kind(ty) else { return true };
    let (kind, optional) = match kind.strip_suffix('?') {
        Some(k) => (k, true),
        None => (kind, false),
    };
    (optional && v.is_null())
        || match kind {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "list" => v.is_array(),
            "object" => v.is_object(),
            _ => true,
        }
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Stores `value` at a dotted path (`analysis.words`), creating objects on the way.
pub fn set_path(state: &mut Value, path: &str, value: Value) {
    let mut cur = state;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let obj = cur.as_object_mut().expect("object");
        if i == parts.len() - 1 {
            obj.insert(part.to_string(), value);
            return;
        }
        cur = obj.entry(part.to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Top-level keys a branch added or changed relative to the state it forked from.
pub fn changes(base: &Value, branch: &Value) -> Map<String, Value> {
    let empty = Map::new();
    let base = base.as_object().unwrap_or(&empty);
    branch
        .as_object()
        .map(|b| b.iter().filter(|(k, v)| base.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// Upstream's `merge_json_deep`: objects merge recursively, lists are concatenated, anything
/// else is replaced (`parallel_results` is skipped: the merge sets it).
fn deep_merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                if k == "parallel_results" {
                    continue;
                }
                match a.get_mut(k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => a.extend(b.iter().cloned()),
        (slot, v) => *slot = v.clone(),
    }
}

fn last_write(into: &mut Value, from: &Value) {
    if let Value::Object(b) = from {
        let a = obj(into);
        for (k, v) in b.iter().filter(|(k, _)| *k != "parallel_results") {
            a.insert(k.clone(), v.clone());
        }
    }
}

fn obj(s: &mut Value) -> &mut Map<String, Value> {
    if !s.is_object() {
        *s = Value::Object(Map::new());
    }
    s.as_object_mut().expect("object")
}

/// The dotted key paths a branch changed (objects are compared key by key), with their values.
fn changed_paths(base: &Value, branch: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match (base, branch) {
        (Value::Object(b), Value::Object(m)) => {
            for (k, v) in m.iter().filter(|(k, _)| *k != "parallel_results") {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                match b.get(k) {
                    Some(old) if old == v => {}
                    Some(old) if old.is_object() && v.is_object() => changed_paths(old, v, &path, out),
                    _ => out.push((path, v.clone())),
                }
            }
        }
        _ if base != branch => out.push((prefix.to_string(), branch.clone())),
        _ => {}
    }
}

/// Merges the branches' final states (in the order the branches are written) into the fork
/// state, as the upstream browser runtime does (`apply_merge_strategy`); every strategy also
/// sets `parallel_results` to the branches' final states.
pub fn merge_branches(base: &Value, branches: &[(String, Value)], strategy: MergeStrategy) -> Result<Value> {
    let mut state = base.clone();
    match strategy {
        MergeStrategy::Isolated => {}
        MergeStrategy::LastWriteWins => branches.iter().for_each(|(_, s)| last_write(&mut state, s)),
        MergeStrategy::MergeDeep => branches.iter().for_each(|(_, s)| deep_merge(&mut state, s)),
        MergeStrategy::FailOnConflict => {
            let mut owner: Vec<(String, &str, Value)> = Vec::new();
            for (branch, s) in branches {
                let mut paths = Vec::new();
                changed_paths(base, s, "", &mut paths);
                for (path, v) in paths {
                    if let Some((_, prev, old)) = owner.iter().find(|(p, _, _)| *p == path) {
                        if *old != v {
                            return Err(EngineError::new(
                                Code::MergeConflict,
                                format!("parallel branches '{prev}' and '{branch}' both wrote different values to state key '{path}' (merge_strategy: fail_on_conflict; use isolated or last_write_wins)"),
                            ));
                        }
                    }
                    owner.push((path, branch.as_str(), v));
                }
            }
            branches.iter().for_each(|(_, s)| last_write(&mut state, s));
        }
    }
    let results = branches.iter().map(|(_, s)| s.clone()).collect();
    obj(&mut state).insert("parallel_results".into(), Value::Array(results));
    Ok(state)
}

/// One entry of `parallel_results` for upstream Python's parallel edges and dynamic_parallel
/// (its `ParallelFlowResult.to_dict()`).
pub fn flow_result(branch: &str, result: Result<Value>, ms: f64) -> Value {
    let (success, state, error, error_type) = match result {
        Ok(s) => (true, s, Value::Null, Value::Null),
        Err(e) => (false, Value::Null, Value::String(e.message), Value::String(e.code.as_str().into())),
    };
    serde_json::json!({
        "branch": branch, "success": success, "state": state, "error": error, "error_type": error_type,
        "traceback": null, "timeout": false, "timing_ms": ms.max(0.0).round(), "retry_count": 0,
        "circuit_state": null, "attempt_errors": [], "exit_code": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_defaults_and_type_errors() {
        let schema = vec![
            FieldDef { name: "n".into(), ty: Some("int".into()), default: Some(json!(0)) },
            FieldDef { name: "q".into(), ty: Some("str".into()), default: None },
        ];
        assert_eq!(initial_state(&schema, json!({ "q": "hi" })).unwrap(), json!({ "n": 0, "q": "hi" }));
        let err = initial_state(&schema, json!({ "q": 5 })).unwrap_err();
        assert_eq!(err.code, Code::StateSchema);
        assert!(err.message.contains("'q' must be str"), "{}", err.message);
    }

    #[test]
    fn dotted_paths_create_objects() {
        let mut s = json!({ "analysis": { "keep": 1 } });
        set_path(&mut s, "analysis.words", json!(3));
        set_path(&mut s, "a.b.c", json!(true));
        assert_eq!(s, json!({ "analysis": { "keep": 1, "words": 3 }, "a": { "b": { "c": true } } }));
    }

    fn branches() -> (Value, Vec<(String, Value)>) {
        let base = json!({ "x": 1, "obj": { "a": 1 }, "tags": ["t"] });
        let b1 = json!({ "x": 3, "obj": { "a": 1, "b": 2 }, "tags": ["t"], "r1": "one", "same": 5 });
        let b2 = json!({ "x": 2, "obj": { "a": 1, "c": 3 }, "tags": ["t"], "r2": "two", "same": 5 });
        (base, vec![("left".into(), b1), ("right".into(), b2)])
    }

    /// As upstream tea-wasm-llm's `apply_merge_strategy`: full branch states, lists concatenated
    /// by merge_deep, `parallel_results` always set.
    #[test]
    fn merge_strategies() {
        let (base, br) = branches();
        let results = json!([br[0].1, br[1].1]);
        assert_eq!(
            merge_branches(&base, &br, MergeStrategy::MergeDeep).unwrap(),
            json!({ "x": 2, "obj": { "a": 1, "b": 2, "c": 3 }, "tags": ["t", "t", "t"], "r1": "one", "same": 5, "r2": "two", "parallel_results": results })
        );
        assert_eq!(
            merge_branches(&base, &br, MergeStrategy::LastWriteWins).unwrap(),
            json!({ "x": 2, "obj": { "a": 1, "c": 3 }, "tags": ["t"], "r1": "one", "same": 5, "r2": "two", "parallel_results": results })
        );
        assert_eq!(
            merge_branches(&base, &br, MergeStrategy::Isolated).unwrap(),
            json!({ "x": 1, "obj": { "a": 1 }, "tags": ["t"], "parallel_results": results })
        );
        let err = merge_branches(&base, &br, MergeStrategy::FailOnConflict).unwrap_err();
        assert_eq!(err.code, Code::MergeConflict);
        assert!(err.message.contains("'left' and 'right'") && err.message.contains("'x'"), "{}", err.message);
    }

    #[test]
    fn fail_on_conflict_allows_equal_writes_and_disjoint_nested_keys() {
        let base = json!({ "o": { "a": 1 } });
        let br = vec![("a".into(), json!({ "k": 1, "o": { "a": 1, "l": 1 } })), ("b".into(), json!({ "k": 1, "o": { "a": 1, "r": 2 } }))];
        let merged = merge_branches(&base, &br, MergeStrategy::FailOnConflict).unwrap();
        assert_eq!(merged["k"], json!(1));
        assert_eq!(merged["o"], json!({ "a": 1, "r": 2 }), "then last write wins per top-level key, as upstream");
    }
}

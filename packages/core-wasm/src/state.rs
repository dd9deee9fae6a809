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

fn type_matches(ty: &str, v: &Value) -> bool {
    match ty {
        "str" | "string" => v.is_string(),
        "int" | "integer" => v.is_i64() || v.is_u64(),
        "float" | "number" => v.is_number(),
        "bool" | "boolean" => v.is_boolean(),
        "list" | "array" => v.is_array(),
        "dict" | "object" => v.is_object(),
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

fn deep_merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => deep_merge(existing, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

fn obj(s: &mut Value) -> &mut Map<String, Value> {
    if !s.is_object() {
        *s = Value::Object(Map::new());
    }
    s.as_object_mut().expect("object")
}

/// Merges branch states (in the order the branches are written) into the fork state.
pub fn merge_branches(base: &Value, branches: &[(String, Value)], strategy: MergeStrategy) -> Result<Value> {
    let mut state = base.clone();
    let diffs: Vec<(&str, Map<String, Value>)> = branches.iter().map(|(n, s)| (n.as_str(), changes(base, s))).collect();
    match strategy {
        MergeStrategy::Isolated => {
            let results = diffs.into_iter().map(|(_, d)| Value::Object(d)).collect();
            obj(&mut state).insert("parallel_results".into(), Value::Array(results));
        }
        MergeStrategy::LastWriteWins => {
            for (_, d) in diffs {
                obj(&mut state).extend(d);
            }
        }
        MergeStrategy::MergeDeep => {
            for (_, d) in diffs {
                deep_merge(&mut state, &Value::Object(d));
            }
        }
        MergeStrategy::FailOnConflict => {
            let mut owner: Map<String, Value> = Map::new();
            for (branch, d) in diffs {
                for (k, v) in d {
                    if let Some(prev) = owner.get(&k) {
                        let prev_branch = prev["branch"].as_str().unwrap_or_default().to_string();
                        if prev["value"] != v {
                            return Err(EngineError::new(
                                Code::MergeConflict,
                                format!("parallel branches '{prev_branch}' and '{branch}' both wrote different values to state key '{k}' (merge_strategy: fail_on_conflict)"),
                            ));
                        }
                    }
                    owner.insert(k.clone(), serde_json::json!({ "branch": branch, "value": v.clone() }));
                    obj(&mut state).insert(k, v);
                }
            }
        }
    }
    Ok(state)
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
        let base = json!({ "x": 1, "obj": { "a": 1 } });
        let b1 = json!({ "x": 1, "obj": { "a": 1, "b": 2 }, "r1": "one", "same": 5 });
        let b2 = json!({ "x": 2, "obj": { "a": 1, "c": 3 }, "r2": "two", "same": 5 });
        (base, vec![("left".into(), b1), ("right".into(), b2)])
    }

    #[test]
    fn merge_strategies() {
        let (base, br) = branches();
        assert_eq!(
            merge_branches(&base, &br, MergeStrategy::MergeDeep).unwrap(),
            json!({ "x": 2, "obj": { "a": 1, "b": 2, "c": 3 }, "r1": "one", "r2": "two", "same": 5 })
        );
        assert_eq!(
            merge_branches(&base, &br, MergeStrategy::LastWriteWins).unwrap(),
            json!({ "x": 2, "obj": { "a": 1, "c": 3 }, "r1": "one", "r2": "two", "same": 5 })
        );
        assert_eq!(
            merge_branches(&base, &br, MergeStrategy::Isolated).unwrap(),
            json!({ "x": 1, "obj": { "a": 1 }, "parallel_results": [
                { "obj": { "a": 1, "b": 2 }, "r1": "one", "same": 5 },
                { "x": 2, "obj": { "a": 1, "c": 3 }, "r2": "two", "same": 5 }
            ] })
        );
        let err = merge_branches(&base, &br, MergeStrategy::FailOnConflict).unwrap_err();
        assert_eq!(err.code, Code::MergeConflict);
        assert!(err.message.contains("'left' and 'right'") && err.message.contains("'obj'"), "{}", err.message);
    }

    #[test]
    fn fail_on_conflict_allows_equal_writes() {
        let base = json!({});
        let br = vec![("a".into(), json!({ "k": 1, "ra": 1 })), ("b".into(), json!({ "k": 1, "rb": 2 }))];
        assert_eq!(merge_branches(&base, &br, MergeStrategy::FailOnConflict).unwrap(), json!({ "k": 1, "ra": 1, "rb": 2 }));
    }
}

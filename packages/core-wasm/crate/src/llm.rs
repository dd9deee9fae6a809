//! The engine <-> LLM handler contract, checked both ways: a request's parameters after
//! templating (`VALIDATION` naming the field), and the handler's reply (`LLM_INVALID_REPLY`).

use crate::error::{Code, EngineError, Result};
use crate::state::kind;
use serde_json::{json, Map, Value};

/// Default `max_tokens` of `llm.call`.
pub const DEFAULT_MAX_TOKENS: u64 = 100;
const ROLES: &[&str] = &["system", "user", "assistant", "tool"];

/// The `provider` values of upstream's `llm.*` actions (validation warns about the others).
pub const PROVIDERS: &[&str] = &["auto", "local", "openai", "ollama", "litellm", "azure", "shell"];

fn invalid(field: &str, want: &str, got: &Value) -> EngineError {
    EngineError::new(Code::Validation, format!("llm parameter '{field}' must be {want}, got {} (after templating)", describe(got)))
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.len() <= 40 => format!("the string {s:?}"),
        Value::Number(n) => format!("the number {n}"),
        other => kind(other).to_string(),
    }
}

fn is_string_list(v: &Value) -> bool {
    matches!(v, Value::Array(items) if items.iter().all(Value::is_string))
}

/// Checks `llm.call` (`kind` "call") or `llm.embed` ("embed") parameters after templating and
/// fills defaults; the result is what the handler receives (plus `kind`).
pub fn check_request(kind_name: &str, params: Value) -> Result<Value> {
    let mut p = match params {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => return Err(EngineError::new(Code::Validation, format!("llm parameters must be a mapping, got {}", kind(&other)))),
    };
    let check = |field: &str, ok: &dyn Fn(&Value) -> bool, want: &str, p: &Map<String, Value>| -> Result<()> {
        match p.get(field) {
            Some(v) if !ok(v) => Err(invalid(field, want, v)),
            _ => Ok(()),
        }
    };
    // Keys come from the run's secrets, never from the workflow (validation warned).
    p.remove("api_key");
    check("provider", &|v| v.as_str().is_some_and(|s| PROVIDERS.contains(&s)), &format!("one of {}", PROVIDERS.join(", ")), &p)?;
    check("api_base", &|v| v.as_str().is_some_and(|s| s.starts_with("http://") || s.starts_with("https://")), "an http(s) URL", &p)?;
    check("model", &Value::is_string, "a string", &p)?;
    if kind_name == "embed" {
        // Upstream's `text:` is `input:` here (the handler always receives `input`).
        if !p.contains_key("input") {
            if let Some(text) = p.remove("text") {
                p.insert("input".into(), text);
            }
        }
        check("input", &|v| v.is_string() || is_string_list(v), "a string or a list of strings", &p)?;
        if !p.contains_key("input") {
            return Err(EngineError::new(Code::Validation, "llm.embed needs `input` (or upstream's `text`)"));
        }
        return Ok(Value::Object(p));
    }
    check("prompt", &Value::is_string, "a string", &p)?;
    check("system", &Value::is_string, "a string", &p)?;
    check("max_tokens", &|v| v.as_u64().is_some_and(|n| n > 0), "a positive integer", &p)?;
    check("temperature", &|v| v.as_f64().is_some_and(|t| t >= 0.0), "a number >= 0", &p)?;
    check("top_p", &|v| v.as_f64().is_some_and(|t| (0.0..=1.0).contains(&t)), "a number from 0 to 1", &p)?;
    check("top_k", &|v| v.as_u64().is_some(), "a non-negative integer", &p)?;
    check("seed", &|v| v.as_i64().is_some() || v.as_u64().is_some(), "an integer", &p)?;
    check("stop", &|v| v.is_string() || is_string_list(v), "a string or a list of strings", &p)?;
    check("stream", &Value::is_boolean, "true or false", &p)?;
    check("grammar", &|v| v.as_str().is_some_and(|g| !g.trim().is_empty()), "a non-empty GBNF grammar", &p)?;
    if let Some(format) = p.get("response_format") {
        check_response_format(format)?;
        if p.contains_key("grammar") && format.get("type").and_then(Value::as_str) != Some("text") {
            return Err(EngineError::new(Code::Validation, "give `grammar` or a JSON `response_format`, not both"));
        }
    }
    if let Some(messages) = p.get("messages") {
        let Value::Array(list) = messages else { return Err(invalid("messages", "a list of { role, content }", messages)) };
        for (i, m) in list.iter().enumerate() {
            let role = m.get("role").and_then(Value::as_str);
            if !role.is_some_and(|r| ROLES.contains(&r)) {
                return Err(EngineError::new(
                    Code::Validation,
                    format!(
                        "llm parameter 'messages[{i}].role' must be one of {}, got {}",
                        ROLES.join(", "),
                        m.get("role").map(describe).unwrap_or("nothing".into())
                    ),
                ));
            }
            if !m.get("content").is_some_and(Value::is_string) {
                return Err(EngineError::new(
                    Code::Validation,
                    format!(
                        "llm parameter 'messages[{i}].content' must be a string, got {}",
                        m.get("content").map(describe).unwrap_or("nothing".into())
                    ),
                ));
            }
        }
    }
    if !p.contains_key("prompt") && !p.contains_key("messages") {
        return Err(EngineError::new(Code::Validation, "llm.call needs `prompt` or `messages`"));
    }
    p.entry("max_tokens").or_insert(json!(DEFAULT_MAX_TOKENS));
    Ok(Value::Object(p))
}

/// `response_format`, in OpenAI's shape: `{ type: text | json_object }` or
/// `{ type: json_schema, json_schema: { name?, schema, strict? } }`.
pub fn check_response_format(format: &Value) -> Result<()> {
    let bad = |why: &str| EngineError::new(Code::Validation, format!("llm parameter 'response_format' {why} (after templating)"));
    let Value::Object(m) = format else { return Err(bad("must be a mapping with `type`")) };
    match m.get("type").and_then(Value::as_str) {
        Some("text" | "json_object") => Ok(()),
        Some("json_schema") => match m.get("json_schema").and_then(|j| j.get("schema")) {
            Some(Value::Object(_) | Value::Bool(_)) => Ok(()),
            _ => Err(bad("of type json_schema needs `json_schema: { name, schema }` with a JSON Schema object")),
        },
        Some(other) => Err(bad(&format!("has unknown type '{other}' (text, json_object or json_schema)"))),
        None => Err(bad("needs `type` (text, json_object or json_schema)")),
    }
}

fn bad_reply(message: String) -> EngineError {
    EngineError::new(Code::LlmInvalidReply, message)
}

fn is_vector(v: &Value) -> bool {
    matches!(v, Value::Array(xs) if !xs.is_empty() && xs.iter().all(|x| x.as_f64().is_some()))
}

/// Checks a handler's reply and fills the documented shape: for "call" an object with a string
/// `content` and a `usage` ({} when absent; token counts completed when given); for "embed" a
/// non-empty numeric `embedding` or a list of them as `embeddings`.
pub fn check_reply(kind_name: &str, reply: Value) -> Result<Value> {
    let Value::Object(mut m) = reply else {
        let want = if kind_name == "embed" { "{ embedding: number[] }" } else { "{ content: string }" };
        return Err(bad_reply(format!("the LLM handler replied with {}; it must reply with {want}", kind(&reply))));
    };
    if kind_name == "embed" {
        let ok = m.get("embedding").is_some_and(is_vector)
            || matches!(m.get("embeddings"), Some(Value::Array(vs)) if !vs.is_empty() && vs.iter().all(is_vector));
        if !ok {
            return Err(bad_reply("the LLM handler's embedding reply has no non-empty numeric `embedding` (or `embeddings` list)".into()));
        }
        // Upstream's result carries the vector's length.
        let dimensions =
            m.get("embedding").and_then(Value::as_array).map(Vec::len).or_else(|| m.get("embeddings")?.get(0)?.as_array().map(Vec::len));
        if let Some(d) = dimensions {
            m.entry("dimensions").or_insert(json!(d));
        }
        return Ok(Value::Object(m));
    }
    match m.get("content") {
        Some(Value::String(_)) => {}
        other => {
            return Err(bad_reply(format!(
                "the LLM handler's reply has no string `content` (got {})",
                other.map(kind).unwrap_or("nothing")
            )))
        }
    }
    for field in ["model", "finish_reason"] {
        if let Some(v) = m.get(field) {
            if !v.is_string() && !v.is_null() {
                return Err(bad_reply(format!("the LLM handler's reply has a `{field}` that is {}, not a string", kind(v))));
            }
        }
    }
    // As upstream's `{content, usage}`: `usage` is {} when the handler reports none; `model` and
    // `finish_reason` are kept when the handler gives them.
    for field in ["model", "finish_reason"] {
        if m.get(field).is_some_and(Value::is_null) {
            m.remove(field);
        }
    }
    let usage = m.entry("usage").or_insert(json!({}));
    if usage.is_null() {
        *usage = json!({});
    }
    let Value::Object(u) = usage else { return Err(bad_reply("the LLM handler's reply has a `usage` that is not an object".into())) };
    if u.is_empty() {
        return Ok(Value::Object(m));
    }
    let count = |k: &str| -> Result<u64> {
        match u.get(k) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => v
                .as_u64()
                .ok_or_else(|| bad_reply(format!("the LLM handler's reply has usage.{k} = {}, not a non-negative integer", describe(v)))),
        }
    };
    let (p, c) = (count("prompt_tokens")?, count("completion_tokens")?);
    let total = match u.get("total_tokens") {
        None | Some(Value::Null) => p + c,
        Some(_) => count("total_tokens")?,
    };
    u.insert("prompt_tokens".into(), json!(p));
    u.insert("completion_tokens".into(), json!(c));
    u.insert("total_tokens".into(), json!(total));
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_checked_after_templating() {
        assert_eq!(check_request("call", json!({ "prompt": "hi" })).unwrap()["max_tokens"], json!(100));
        let err = check_request("call", json!({ "prompt": 5 })).unwrap_err();
        assert_eq!(err.code, Code::Validation);
        assert!(err.message.contains("'prompt'"), "{}", err.message);
        assert!(check_request("call", json!({ "prompt": "x", "max_tokens": "abc" })).unwrap_err().message.contains("max_tokens"));
        assert!(check_request("call", json!({ "messages": [{ "role": "robot", "content": "x" }] }))
            .unwrap_err()
            .message
            .contains("messages[0].role"));
        assert!(check_request("call", json!({})).is_err());
        assert!(check_request("embed", json!({ "input": ["a", 1] })).is_err());
    }

    #[test]
    fn replies_need_content_or_an_embedding() {
        for bad in
            [json!(null), json!("text"), json!({}), json!({ "content": 3 }), json!({ "content": "x", "usage": { "prompt_tokens": -1 } })]
        {
            assert_eq!(check_reply("call", bad.clone()).unwrap_err().code, Code::LlmInvalidReply, "{bad}");
        }
        let ok = check_reply("call", json!({ "content": "x", "usage": { "prompt_tokens": 2, "completion_tokens": 3 } })).unwrap();
        assert_eq!(ok, json!({ "content": "x", "usage": { "prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5 } }));
        assert_eq!(check_reply("embed", json!({ "embedding": [0.5, 1] })).unwrap(), json!({ "embedding": [0.5, 1], "dimensions": 2 }));
        assert_eq!(check_request("embed", json!({ "text": "hi" })).unwrap(), json!({ "input": "hi" }));
        assert!(check_reply("embed", json!({ "embedding": [] })).is_err());
        assert!(check_reply("embed", json!({ "embeddings": [[1], ["x"]] })).is_err());
    }
}

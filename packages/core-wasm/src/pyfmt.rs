//! What upstream's Jinja2 templates print and offer beyond minijinja's built-ins: Python's `str()`
//! of values (`True`, `None`, `[1, 'a']`, `{'k': 'v'}`), `json.dumps`, Jinja2's `tojson`,
//! `truncate`, `sha256`, and the string and dict methods templates call (`.startswith()`,
//! `.get()`...).

use minijinja::value::{Value as JValue, ValueKind};
use minijinja::{Error as JError, ErrorKind, Output, State};
use serde_json::Value;

/// Python's `repr()` of a float (`2.0`, `0.5`, `1e+16`).
fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        let e = format!("{f:e}");
        let (m, exp) = e.split_once('e').unwrap_or((&e, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        return format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    if f.fract() == 0.0 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// Python's `repr()` of a string: single quotes unless the text has one and no double quote.
fn str_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// Python's `str()` (`top`) or `repr()` (inside containers) of a template value.
pub fn py_str(v: &JValue, top: bool, out: &mut String) {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number => match (v.is_integer(), f64::try_from(v.clone())) {
            (false, Ok(f)) => out.push_str(&float_repr(f)),
            _ => out.push_str(&v.to_string()),
        },
        ValueKind::String => match v.as_str() {
            Some(s) if top => out.push_str(s),
            Some(s) => out.push_str(&str_repr(s)),
            None => out.push_str(&v.to_string()),
        },
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(items) = v.try_iter() {
                for (i, item) in items.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    py_str(&item, false, out);
                }
            }
            out.push(']');
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(keys) = v.try_iter() {
                for (i, k) in keys.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    py_str(&k, false, out);
                    out.push_str(": ");
                    py_str(&v.get_item(&k).unwrap_or_default(), false, out);
                }
            }
            out.push('}');
        }
        _ => out.push_str(&v.to_string()),
    }
}

/// The formatter: what `{{ value }}` prints inside text, as Jinja2 does.
pub fn formatter(out: &mut Output, _state: &State, value: &JValue) -> Result<(), JError> {
    if value.is_safe() {
        return out.write_str(value.as_str().unwrap_or_default()).map_err(|_| JError::new(ErrorKind::WriteFailure, "write"));
    }
    let mut s = String::new();
    py_str(value, true, &mut s);
    out.write_str(&s).map_err(|_| JError::new(ErrorKind::WriteFailure, "write"))
}

/// Python's `json.dumps` (`", "` / `": "` separators, non-ASCII escaped), keys sorted or not.
pub fn json_dumps(v: &Value, sort: bool, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) => out.push_str(&float_repr(f).replace("inf", "Infinity").replace("nan", "NaN")),
            _ => out.push_str("null"),
        },
        Value::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    '\u{c}' => out.push_str("\\f"),
                    c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                        let mut buf = [0u16; 2];
                        for unit in c.encode_utf16(&mut buf) {
                            out.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_dumps(item, sort, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            let mut keys: Vec<&String> = m.keys().collect();
            if sort {
                keys.sort();
            }
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_dumps(&Value::String(k.clone()), sort, out);
                out.push_str(": ");
                json_dumps(&m[k], sort, out);
            }
            out.push('}');
        }
    }
}

fn to_json(v: &JValue) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// `json`: upstream's `json.dumps(value)` (insertion order).
pub fn json_filter(v: JValue) -> String {
    let mut out = String::new();
    json_dumps(&to_json(&v), false, &mut out);
    out
}

/// `tojson`: Jinja2's (keys sorted, `<`, `>`, `&` and `'` escaped for HTML).
pub fn tojson_filter(v: JValue, _indent: Option<JValue>) -> JValue {
    let mut out = String::new();
    json_dumps(&to_json(&v), true, &mut out);
    let safe = out.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026").replace('\'', "\\u0027");
    JValue::from_safe_string(safe)
}

/// `truncate(length=255, killwords=false, end='...', leeway=5)`, as Jinja2's.
pub fn truncate_filter(s: String, length: Option<usize>, killwords: Option<bool>, end: Option<String>, leeway: Option<usize>) -> String {
    let length = length.unwrap_or(255);
    let end = end.unwrap_or_else(|| "...".into());
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= length + leeway.unwrap_or(5) {
        return s;
    }
    let keep: String = chars[..length.saturating_sub(end.chars().count())].iter().collect();
    if killwords.unwrap_or(false) {
        return keep + &end;
    }
    let cut = match keep.rfind(' ') {
        Some(i) => keep[..i].to_string(),
        None => keep,
    };
    cut + &end
}

/// `sha256`: the hex SHA-256 of the value's text.
pub fn sha256_filter(v: JValue) -> String {
    let text = match v.as_str() {
        Some(s) => s.to_string(),
        None => {
            let mut s = String::new();
            py_str(&v, true, &mut s);
            s
        }
    };
    crate::sha256::hex(text.as_bytes())
}

fn arg_str<'a>(args: &'a [JValue], i: usize, method: &str) -> Result<Option<&'a str>, JError> {
    match args.get(i) {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or_else(|| JError::new(ErrorKind::InvalidOperation, format!("{method}() takes text arguments"))),
    }
}

/// Python methods on strings and dicts that upstream templates call.
pub fn call_method(_state: &State, value: &JValue, method: &str, args: &[JValue]) -> Result<JValue, JError> {
    let unknown = || JError::new(ErrorKind::UnknownMethod, format!("{} has no method named {method}", value.kind()));
    if let Some(s) = value.as_str() {
        let a0 = arg_str(args, 0, method)?;
        return Ok(match method {
            "startswith" => JValue::from(s.starts_with(a0.unwrap_or(""))),
            "endswith" => JValue::from(s.ends_with(a0.unwrap_or(""))),
            "upper" => JValue::from(s.to_uppercase()),
            "lower" => JValue::from(s.to_lowercase()),
            "strip" => JValue::from(match a0 {
                Some(cs) => s.trim_matches(|c| cs.contains(c)),
                None => s.trim(),
            }),
            "lstrip" => JValue::from(match a0 {
                Some(cs) => s.trim_start_matches(|c| cs.contains(c)),
                None => s.trim_start(),
            }),
            "rstrip" => JValue::from(match a0 {
                Some(cs) => s.trim_end_matches(|c| cs.contains(c)),
                None => s.trim_end(),
            }),
            "split" => JValue::from(match a0 {
                Some(sep) if !sep.is_empty() => s.split(sep).map(String::from).collect::<Vec<_>>(),
                _ => s.split_whitespace().map(String::from).collect::<Vec<_>>(),
            }),
            "splitlines" => JValue::from(s.lines().map(String::from).collect::<Vec<_>>()),
            "replace" => JValue::from(s.replace(a0.unwrap_or(""), arg_str(args, 1, method)?.unwrap_or(""))),
            "find" => JValue::from(s.find(a0.unwrap_or("")).map(|i| s[..i].chars().count() as i64).unwrap_or(-1)),
            "count" => JValue::from(s.matches(a0.unwrap_or("")).count()),
            "title" => JValue::from(
                s.split(' ')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next().map(|f| f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect::<String>()).unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            "capitalize" => {
                let mut c = s.chars();
                JValue::from(
                    c.next().map(|f| f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect::<String>()).unwrap_or_default(),
                )
            }
            "isdigit" => JValue::from(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit())),
            "isalpha" => JValue::from(!s.is_empty() && s.chars().all(char::is_alphabetic)),
            "join" => {
                let items = args.first().ok_or_else(unknown)?;
                let parts: Vec<String> = items.try_iter()?.map(|x| x.as_str().map(String::from).unwrap_or_else(|| x.to_string())).collect();
                JValue::from(parts.join(s))
            }
            _ => return Err(unknown()),
        });
    }
    if value.kind() == ValueKind::Map {
        return Ok(match method {
            "get" => {
                let key = args.first().ok_or_else(unknown)?;
                // Membership, not the item: the root state shows missing keys as None.
                if value.try_iter()?.any(|k| &k == key) {
                    value.get_item(key)?
                } else {
                    args.get(1).cloned().unwrap_or(JValue::from(()))
                }
            }
            "keys" => JValue::from(value.try_iter()?.collect::<Vec<_>>()),
            "values" => JValue::from(value.try_iter()?.map(|k| value.get_item(&k).unwrap_or_default()).collect::<Vec<_>>()),
            "items" => JValue::from(
                value.try_iter()?.map(|k| JValue::from(vec![k.clone(), value.get_item(&k).unwrap_or_default()])).collect::<Vec<_>>(),
            ),
            _ => return Err(unknown()),
        });
    }
    Err(unknown())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_printing() {
        let v = JValue::from_serialize(json!({ "k": [1, "a", null, true, 0.5, 2.0], "q": "it's" }));
        let mut s = String::new();
        py_str(&v, true, &mut s);
        assert_eq!(s, "{'k': [1, 'a', None, True, 0.5, 2.0], 'q': \"it's\"}");
        assert_eq!(float_repr(1e20), "1e+20");
        assert_eq!(float_repr(2.5e-7), "2.5e-07");
    }

    #[test]
    fn json_and_truncate() {
        let mut s = String::new();
        json_dumps(&json!({ "b": 1, "a": "<é>" }), false, &mut s);
        assert_eq!(s, "{\"b\": 1, \"a\": \"<\\u00e9>\"}");
        assert_eq!(truncate_filter("The quick brown fox".into(), Some(9), None, None, None), "The...");
        assert_eq!(truncate_filter("short".into(), Some(9), None, None, None), "short");
    }
}

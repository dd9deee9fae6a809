//! What upstream's Jinja2 templates print and offer beyond minijinja's built-ins: Python's `str()`
//! of values (`True`, `None`, `[1, 'a']`, `{'k': 'v'}`), `json.dumps`, Jinja2's `tojson`,
//! `truncate`, `sha256`, and the string and dict methods templates call (`.startswith()`,
//! `.get()`...).

use minijinja::value::{Enumerator, Object, ObjectRepr, Value as JValue, ValueKind};
use minijinja::{Error as JError, ErrorKind, Output, State};
use serde_json::Value;
use std::sync::Arc;

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
        // Inside a list, Jinja2's undefined prints its repr (`map(attribute=)` of a missing one).
        ValueKind::Undefined if !top => out.push_str("Undefined"),
        ValueKind::Plain if v.downcast_object_ref::<NoElse>().is_some() => out.push_str(if top { "" } else { "Undefined" }),
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
            let wrap = v.downcast_object_ref::<PyTuple>().map(|t| t.1);
            // A groupby group prints as the tuple it is (Jinja2's `_GroupTuple.__repr__`).
            let wrap = wrap.map(|w| w.filter(|n| *n != "_GroupTuple"));
            let tuple = wrap == Some(None);
            if let Some(Some(name)) = wrap {
                out.push_str(name);
                out.push('(');
            }
            out.push(if tuple { '(' } else { '[' });
            if let Ok(items) = v.try_iter() {
                for (i, item) in items.enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    py_str(&item, false, out);
                }
                if tuple && v.len() == Some(1) {
                    out.push(',');
                }
            }
            out.push(if tuple { ')' } else { ']' });
            if let Some(Some(_)) = wrap {
                out.push(')');
            }
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

/// A Python tuple (`dictsort`'s and `.items()`' pairs) or dict view (`.keys()`): a sequence that
/// prints as `(a, b)` or `dict_keys(['a'])`.
#[derive(Debug)]
pub struct PyTuple(Vec<JValue>, Option<&'static str>);

impl PyTuple {
    pub fn value(items: Vec<JValue>) -> JValue {
        JValue::from_object(PyTuple(items, None))
    }

    /// A plain tuple (not a dict view).
    pub fn is_tuple(&self) -> bool {
        self.1.is_none() || self.1 == Some("_GroupTuple")
    }

    /// A `groupby` group: `(grouper, list)`, also as `.grouper` and `.list`.
    pub fn group(grouper: JValue, list: JValue) -> JValue {
        JValue::from_object(PyTuple(vec![grouper, list], Some("_GroupTuple")))
    }

    /// A dict view: `dict_keys`, `dict_values` or `dict_items`.
    pub fn view(name: &'static str, items: Vec<JValue>) -> JValue {
        JValue::from_object(PyTuple(items, Some(name)))
    }
}

impl Object for PyTuple {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        if self.1 == Some("_GroupTuple") {
            match key.as_str() {
                Some("grouper") => return self.0.first().cloned(),
                Some("list") => return self.0.get(1).cloned(),
                _ => {}
            }
        }
        let i = i64::try_from(key.clone()).ok()?;
        let i = if i < 0 { self.0.len() as i64 + i } else { i };
        self.0.get(usize::try_from(i).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }
}

/// What `a if b` without `else` gives when `b` is false: printed as nothing, None as a value,
/// false (Jinja2's plain `Undefined`).
#[derive(Debug)]
pub struct NoElse;

impl Object for NoElse {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn is_true(self: &Arc<Self>) -> bool {
        false
    }

    fn render(self: &Arc<Self>, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
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
pub fn json_filter(v: JValue) -> Result<String, JError> {
    crate::jinja_filters::defined(&v)?;
    let mut out = String::new();
    json_dumps(&to_json(&v), false, &mut out);
    Ok(out)
}

/// `tojson`: Jinja2's (keys sorted, `<`, `>`, `&` and `'` escaped for HTML).
pub fn tojson_filter(v: JValue, _indent: Option<JValue>) -> Result<JValue, JError> {
    crate::jinja_filters::defined(&v)?;
    let mut out = String::new();
    json_dumps(&to_json(&v), true, &mut out);
    let safe = out.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026").replace('\'', "\\u0027");
    Ok(JValue::from_safe_string(safe))
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

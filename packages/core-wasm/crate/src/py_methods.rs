//! Python's methods on strings, lists and dicts, which upstream's templates call on values
//! (`.startswith()`, `.split()`, `.get()`, `.items()`...). minijinja calls this for any method it
//! does not have itself.

use crate::jinja_filters::{capitalize_text, center_text, replace_text, text};
use crate::pyfmt::PyTuple;
use crate::pyformat::str_format;
use minijinja::value::{Kwargs, Value as JValue, ValueKind};
use minijinja::{Error as JError, ErrorKind, State};

fn err(msg: impl Into<String>) -> JError {
    JError::new(ErrorKind::InvalidOperation, msg.into())
}

/// The positional arguments and the keyword ones (minijinja passes them as a last `Kwargs`).
fn split_args(args: &[JValue]) -> (Vec<JValue>, Vec<(String, JValue)>) {
    match args.last().filter(|a| a.is_kwargs()) {
        Some(last) => {
            let kw = Kwargs::try_from(last.clone()).ok();
            let pairs =
                kw.map(|k| k.args().map(|n| (n.to_string(), k.peek::<JValue>(n).unwrap_or_default())).collect()).unwrap_or_default();
            (args[..args.len() - 1].to_vec(), pairs)
        }
        None => (args.to_vec(), Vec::new()),
    }
}

fn arg_text(args: &[JValue], i: usize, method: &str) -> Result<Option<String>, JError> {
    match args.get(i) {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => match v.as_str() {
            Some(s) => Ok(Some(s.to_string())),
            None => Err(err(format!("{method}() argument must be str, not {}", v.kind()))),
        },
    }
}

fn arg_int(args: &[JValue], i: usize) -> Result<Option<i64>, JError> {
    args.get(i).filter(|v| !v.is_none()).map(|v| i64::try_from(v.clone())).transpose()
}

fn fill_char(args: &[JValue], method: &str) -> Result<char, JError> {
    match arg_text(args, 1, method)? {
        None => Ok(' '),
        Some(f) if f.chars().count() == 1 => Ok(f.chars().next().unwrap_or(' ')),
        Some(_) => Err(err("The fill character must be exactly one character long")),
    }
}

/// Python's `str.split(sep, maxsplit)` (`rsplit` with `from_right`).
fn split(s: &str, sep: Option<&str>, max: Option<i64>, from_right: bool) -> Result<Vec<String>, JError> {
    let max = max.filter(|m| *m >= 0).map(|m| m as usize);
    let mut parts: Vec<String> = match sep {
        Some("") => return Err(err("empty separator")),
        Some(sep) => match (max, from_right) {
            (Some(m), false) => s.splitn(m + 1, sep).map(String::from).collect(),
            (Some(m), true) => s.rsplitn(m + 1, sep).map(String::from).collect(),
            (None, _) => s.split(sep).map(String::from).collect(),
        },
        None => {
            let words: Vec<&str> = s.split_whitespace().collect();
            match max {
                Some(m) if words.len() > m + 1 => {
                    let mut out: Vec<String> = Vec::new();
                    let mut rest = if from_right { s.trim_end() } else { s.trim_start() };
                    for _ in 0..m {
                        let (w, r) = if from_right {
                            let i = rest.rfind(char::is_whitespace).unwrap_or(0);
                            (rest[i..].trim_start(), rest[..i].trim_end())
                        } else {
                            let i = rest.find(char::is_whitespace).unwrap_or(rest.len());
                            (&rest[..i], rest[i..].trim_start())
                        };
                        out.push(w.to_string());
                        rest = r;
                    }
                    out.push(rest.to_string());
                    out
                }
                _ => words.into_iter().map(String::from).collect(),
            }
        }
    };
    // rsplitn and the whitespace walk from the right both give the parts last first.
    if from_right && max.is_some() {
        parts.reverse();
    }
    Ok(parts)
}

/// Python's `str.title()`: a letter after a non-letter is upper case, others lower.
fn py_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        if prev_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_cased = c.is_alphabetic();
    }
    out
}

/// `find` / `index` and their right-hand forms: a char index, or -1.
fn find(s: &str, sub: &str, right: bool) -> i64 {
    let at = if right { s.rfind(sub) } else { s.find(sub) };
    at.map(|i| s[..i].chars().count() as i64).unwrap_or(-1)
}

fn prefix_test(s: &str, arg: Option<&JValue>, method: &str, ends: bool) -> Result<bool, JError> {
    let arg = arg.ok_or_else(|| err(format!("{method}() takes at least 1 argument (0 given)")))?;
    let options: Vec<JValue> = if arg.kind() == ValueKind::String { vec![arg.clone()] } else { arg.try_iter()?.collect() };
    for o in options {
        let o = o.as_str().ok_or_else(|| err(format!("{method} first arg must be str or a tuple of str")))?.to_string();
        if if ends { s.ends_with(&o) } else { s.starts_with(&o) } {
            return Ok(true);
        }
    }
    Ok(false)
}

fn string_method(s: &str, method: &str, args: &[JValue], kwargs: &[(String, JValue)]) -> Result<Option<JValue>, JError> {
    let a0 = || arg_text(args, 0, method);
    let chars_of = |cs: Option<String>| move |c: char| cs.as_ref().map_or(c.is_whitespace(), |cs| cs.contains(c));
    let bool_all = |f: fn(char) -> bool| JValue::from(!s.is_empty() && s.chars().all(f));
    Ok(Some(match method {
        "startswith" => JValue::from(prefix_test(s, args.first(), method, false)?),
        "endswith" => JValue::from(prefix_test(s, args.first(), method, true)?),
        "upper" => JValue::from(s.to_uppercase()),
        "lower" | "casefold" => JValue::from(s.to_lowercase()),
        "swapcase" => JValue::from(
            s.chars()
                .flat_map(|c| if c.is_uppercase() { c.to_lowercase().collect::<Vec<_>>() } else { c.to_uppercase().collect() })
                .collect::<String>(),
        ),
        "strip" => JValue::from(s.trim_matches(chars_of(a0()?))),
        "lstrip" => JValue::from(s.trim_start_matches(chars_of(a0()?))),
        "rstrip" => JValue::from(s.trim_end_matches(chars_of(a0()?))),
        "split" | "rsplit" => JValue::from(split(s, a0()?.as_deref(), arg_int(args, 1)?, method == "rsplit")?),
        "splitlines" => {
            let keep = args.first().is_some_and(JValue::is_true);
            JValue::from(if keep {
                s.split_inclusive('\n').map(String::from).collect::<Vec<_>>()
            } else {
                s.lines().map(String::from).collect()
            })
        }
        "replace" => {
            let old = a0()?.ok_or_else(|| err("replace() takes at least 2 arguments"))?;
            let new = arg_text(args, 1, method)?.ok_or_else(|| err("replace() takes at least 2 arguments"))?;
            JValue::from(replace_text(s, &old, &new, arg_int(args, 2)?))
        }
        "find" | "rfind" | "index" | "rindex" => {
            let sub = a0()?.ok_or_else(|| err(format!("{method}() takes at least 1 argument (0 given)")))?;
            let at = find(s, &sub, method.starts_with('r'));
            if at < 0 && method.ends_with("index") {
                return Err(err("substring not found"));
            }
            JValue::from(at)
        }
        "count" => JValue::from(match a0()? {
            Some(sub) if sub.is_empty() => s.chars().count() + 1,
            Some(sub) => s.matches(sub.as_str()).count(),
            None => return Err(err("count() takes at least 1 argument (0 given)")),
        }),
        "title" => JValue::from(py_title(s)),
        "capitalize" => JValue::from(capitalize_text(s)),
        "isdigit" | "isdecimal" | "isnumeric" => bool_all(|c| c.is_ascii_digit()),
        "isalpha" => bool_all(char::is_alphabetic),
        "isalnum" => bool_all(char::is_alphanumeric),
        "isspace" => bool_all(char::is_whitespace),
        "islower" => JValue::from(s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase)),
        "isupper" => JValue::from(s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase)),
        "istitle" => JValue::from(s.chars().any(char::is_alphabetic) && py_title(s) == s),
        "zfill" => zfill(s, args)?,
        "center" | "ljust" | "rjust" => pad(s, method, args)?,
        "format" => JValue::from(str_format(s, args, kwargs)?),
        "join" => join(s, args)?,
        "partition" | "rpartition" => partition(s, method, a0()?)?,
        "removeprefix" => JValue::from(s.strip_prefix(a0()?.unwrap_or_default().as_str()).unwrap_or(s)),
        "removesuffix" => JValue::from(s.strip_suffix(a0()?.unwrap_or_default().as_str()).unwrap_or(s)),
        "expandtabs" => expand_tabs(s, arg_int(args, 0)?),
        _ => return Ok(None),
    }))
}

/// `str.zfill(width)`: zeros after the sign, up to `width` characters.
fn zfill(s: &str, args: &[JValue]) -> Result<JValue, JError> {
    let width = arg_int(args, 0)?.unwrap_or(0).max(0) as usize;
    let n = s.chars().count();
    let (sign, digits) = match s.chars().next() {
        Some(c @ ('-' | '+')) => (c.to_string(), &s[1..]),
        _ => (String::new(), s),
    };
    Ok(JValue::from(if n >= width { s.to_string() } else { format!("{sign}{}{digits}", "0".repeat(width - n)) }))
}

/// `str.center` / `ljust` / `rjust(width[, fillchar])`.
fn pad(s: &str, method: &str, args: &[JValue]) -> Result<JValue, JError> {
    let width = arg_int(args, 0)?.ok_or_else(|| err(format!("{method}() takes at least 1 argument (0 given)")))?.max(0) as usize;
    let fill = fill_char(args, method)?;
    let pad = width.saturating_sub(s.chars().count());
    let f = |k: usize| std::iter::repeat_n(fill, k).collect::<String>();
    Ok(JValue::from(match method {
        "center" => center_text(s, width, fill),
        "ljust" => format!("{s}{}", f(pad)),
        _ => format!("{}{s}", f(pad)),
    }))
}

/// `sep.join(items)`: every item must be a string.
fn join(s: &str, args: &[JValue]) -> Result<JValue, JError> {
    let items = args.first().ok_or_else(|| err("join() takes exactly one argument (0 given)"))?;
    let mut parts = Vec::new();
    for (i, x) in items.try_iter()?.enumerate() {
        match x.as_str() {
            Some(t) => parts.push(t.to_string()),
            None => return Err(err(format!("sequence item {i}: expected str instance, {} found", x.kind()))),
        }
    }
    Ok(JValue::from(parts.join(s)))
}

/// `str.partition` / `rpartition(sep)`: a 3-tuple.
fn partition(s: &str, method: &str, sep: Option<String>) -> Result<JValue, JError> {
    let sep = sep.ok_or_else(|| err(format!("{method}() takes exactly one argument (0 given)")))?;
    if sep.is_empty() {
        return Err(err("empty separator"));
    }
    let at = if method == "partition" { s.find(&sep) } else { s.rfind(&sep) };
    let parts = match at {
        Some(i) => vec![&s[..i], sep.as_str(), &s[i + sep.len()..]],
        None if method == "partition" => vec![s, "", ""],
        None => vec!["", "", s],
    };
    Ok(PyTuple::value(parts.into_iter().map(JValue::from).collect()))
}

/// `str.expandtabs(tabsize=8)`: columns restart after a newline.
fn expand_tabs(s: &str, size: Option<i64>) -> JValue {
    let size = size.unwrap_or(8).max(0) as usize;
    let mut out = String::new();
    let mut col = 0;
    for c in s.chars() {
        match c {
            '\t' if size > 0 => {
                let n = size - col % size;
                out.push_str(&" ".repeat(n));
                col += n;
            }
            '\t' => {}
            '\n' | '\r' => {
                out.push(c);
                col = 0;
            }
            c => {
                out.push(c);
                col += 1;
            }
        }
    }
    JValue::from(out)
}

fn list_method(v: &JValue, method: &str, args: &[JValue]) -> Result<Option<JValue>, JError> {
    let items: Vec<JValue> = v.try_iter()?.collect();
    Ok(Some(match method {
        "index" => {
            let x = args.first().ok_or_else(|| err("index expected at least 1 argument, got 0"))?;
            let at = items.iter().position(|i| i == x).ok_or_else(|| err(format!("{} is not in list", text(x))))?;
            JValue::from(at)
        }
        "count" => {
            let x = args.first().ok_or_else(|| err("count() takes exactly one argument (0 given)"))?;
            JValue::from(items.iter().filter(|i| *i == x).count())
        }
        "copy" => JValue::from(items),
        _ => return Ok(None),
    }))
}

/// Dict methods (membership by key: state views answer None for a missing key).
fn dict_method(v: &JValue, method: &str, args: &[JValue]) -> Result<Option<JValue>, JError> {
    let keys: Vec<JValue> = v.try_iter()?.collect();
    let value_of = |k: &JValue| v.get_item(k).unwrap_or_default();
    let lookup = |default: Option<&JValue>| -> Option<JValue> {
        let key = args.first()?;
        if keys.iter().any(|k| k == key) {
            Some(value_of(key))
        } else {
            default.cloned()
        }
    };
    Ok(Some(match method {
        "get" => {
            args.first().ok_or_else(|| err("get expected at least 1 argument, got 0"))?;
            lookup(Some(args.get(1).unwrap_or(&JValue::from(())))).unwrap_or_default()
        }
        "setdefault" => lookup(Some(args.get(1).unwrap_or(&JValue::from(())))).unwrap_or_default(),
        "pop" => lookup(args.get(1)).ok_or_else(|| err(format!("KeyError: {}", args.first().map(text).unwrap_or_default())))?,
        "keys" => PyTuple::view("dict_keys", keys),
        "values" => PyTuple::view("dict_values", keys.iter().map(value_of).collect()),
        "items" => PyTuple::view("dict_items", keys.iter().map(|k| PyTuple::value(vec![k.clone(), value_of(k)])).collect()),
        "copy" => JValue::from_iter(keys.iter().map(|k| (k.clone(), value_of(k)))),
        "update" | "clear" => JValue::from(()),
        _ => return Ok(None),
    }))
}

/// What minijinja calls for a method it does not know.
pub fn call_method(_state: &State, value: &JValue, method: &str, args: &[JValue]) -> Result<JValue, JError> {
    let (args, kwargs) = split_args(args);
    let found = match value.kind() {
        ValueKind::String => string_method(value.as_str().unwrap_or_default(), method, &args, &kwargs)?,
        ValueKind::Seq | ValueKind::Iterable => list_method(value, method, &args)?,
        ValueKind::Map => dict_method(value, method, &args)?,
        _ => None,
    };
    found.ok_or_else(|| JError::new(ErrorKind::UnknownMethod, format!("{} has no method named {method}", value.kind())))
}

//! Jinja2's built-in filters where minijinja's differ: every argument form Jinja2 documents
//! (positional or by name), Python's printing of values (`str()`), and the filters minijinja does
//! not have (`center`, `wordcount`, `wordwrap`, `filesizeformat`, `urlencode`, `xmlattr`,
//! `striptags`). The template oracle (oracle/) checks them against Jinja2.

use crate::pyfmt::{py_str, PyTuple};
use minijinja::value::Object;
use minijinja::value::{Kwargs, Rest, Value as JValue, ValueKind};
use minijinja::{Environment, Error as JError, ErrorKind};
use std::cmp::Ordering;
use std::sync::atomic::Ordering::Relaxed;

fn err(msg: impl Into<String>) -> JError {
    JError::new(ErrorKind::InvalidOperation, msg.into())
}

/// Python's `str(v)`.
pub fn text(v: &JValue) -> String {
    let mut s = String::new();
    py_str(v, true, &mut s);
    s
}

/// Jinja2's argument binding: positional first, then by name; too many or unknown ones fail.
fn bind<const N: usize>(filter: &str, names: [&str; N], pos: &[JValue], kw: &Kwargs) -> Result<[Option<JValue>; N], JError> {
    if pos.len() > N {
        return Err(JError::new(ErrorKind::TooManyArguments, format!("{filter}() takes at most {N} arguments ({} given)", pos.len())));
    }
    let mut out: [Option<JValue>; N] = std::array::from_fn(|i| pos.get(i).cloned());
    for (i, name) in names.iter().enumerate() {
        if let Some(v) = kw.get::<Option<JValue>>(name)? {
            if out[i].is_some() {
                return Err(err(format!("{filter}() got multiple values for argument '{name}'")));
            }
            out[i] = Some(v);
        }
    }
    kw.assert_all_used()?;
    Ok(out)
}

fn flag(v: &Option<JValue>) -> bool {
    v.as_ref().is_some_and(JValue::is_true)
}

/// `attribute` as Jinja2's `make_attrgetter`: dotted, with integer parts as indexes; a missing
/// one is undefined (an error once used, as upstream's strict undefined).
fn getter(attr: &Option<JValue>) -> impl Fn(&JValue) -> Result<JValue, JError> + '_ {
    move |item: &JValue| {
        let Some(a) = attr else { return Ok(item.clone()) };
        let parts: Vec<JValue> = if a.is_number() {
            vec![a.clone()]
        } else {
            text(a).split('.').map(|p| p.parse::<i64>().map(JValue::from).unwrap_or_else(|_| JValue::from(p))).collect()
        };
        let mut v = item.clone();
        for p in parts {
            let next = if p.is_number() { v.get_item(&p).ok() } else { v.get_attr(p.as_str().unwrap_or_default()).ok() };
            match next.filter(|n| !n.is_undefined()) {
                Some(n) => v = n,
                None => return Ok(JValue::UNDEFINED),
            }
        }
        Ok(v)
    }
}

fn items(v: &JValue) -> Result<Vec<JValue>, JError> {
    Ok(v.try_iter()?.collect())
}

/// Python's `<` ordering of two values (numbers, strings, sequences), optionally ignoring case.
pub fn py_cmp(a: &JValue, b: &JValue, case_sensitive: bool) -> Result<Ordering, JError> {
    defined(a)?;
    defined(b)?;
    if is_tuple(a) != is_tuple(b) && a.kind() == ValueKind::Seq && b.kind() == ValueKind::Seq {
        return Err(err("'<' not supported between instances of 'tuple' and 'list'"));
    }
    match (a.kind(), b.kind()) {
        (ValueKind::Seq, ValueKind::Seq) => {
            let (xs, ys) = (items(a)?, items(b)?);
            for (x, y) in xs.iter().zip(&ys) {
                defined(x)?;
                defined(y)?;
                if !py_eq(x, y) {
                    return py_cmp(x, y, case_sensitive);
                }
            }
            Ok(xs.len().cmp(&ys.len()))
        }
        (ValueKind::String, ValueKind::String) if !case_sensitive => Ok(text(a).to_lowercase().cmp(&text(b).to_lowercase())),
        (ValueKind::Number | ValueKind::Bool, ValueKind::Number | ValueKind::Bool)
            if a.kind() == ValueKind::Bool || b.kind() == ValueKind::Bool =>
        {
            as_f64(a)?.partial_cmp(&as_f64(b)?).ok_or_else(|| err("values cannot be ordered"))
        }
        (ValueKind::Number, ValueKind::Number) | (ValueKind::String, ValueKind::String) => {
            a.partial_cmp(b).ok_or_else(|| err("values cannot be ordered"))
        }
        _ => Err(err(format!("'<' not supported between instances of '{}' and '{}'", a.kind(), b.kind()))),
    }
}

fn add(a: JValue, b: &JValue) -> Result<JValue, JError> {
    match (a.kind(), b.kind()) {
        (ValueKind::Seq, ValueKind::Seq) if is_tuple(&a) != is_tuple(b) => {
            Err(err("can only concatenate a tuple to a tuple and a list to a list"))
        }
        (ValueKind::Seq, ValueKind::Seq) => {
            let joined: Vec<JValue> = items(&a)?.into_iter().chain(items(b)?).collect();
            Ok(if is_tuple(&a) { PyTuple::value(joined) } else { JValue::from(joined) })
        }
        (ValueKind::Number | ValueKind::Bool, ValueKind::Number | ValueKind::Bool) => {
            match (
                i64::try_from(a.clone()),
                i64::try_from(b.clone()),
                a.is_integer() || a.kind() == ValueKind::Bool,
                b.is_integer() || b.kind() == ValueKind::Bool,
            ) {
                (Ok(x), Ok(y), true, true) => Ok(x.checked_add(y).map(JValue::from).unwrap_or_else(|| JValue::from(x as f64 + y as f64))),
                _ => Ok(JValue::from(as_f64(&a)? + as_f64(b)?)),
            }
        }
        _ => Err(err(format!("unsupported operand type(s) for +: '{}' and '{}'", a.kind(), b.kind()))),
    }
}

/// `sum(iterable, attribute=None, start=0)`.
fn sum(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    defined(&v)?;
    let [attr, start] = bind("sum", ["attribute", "start"], &pos, &kw)?;
    let get = getter(&attr);
    items(&v)?.iter().try_fold(start.unwrap_or(JValue::from(0)), |acc, x| add(acc, &get(x)?))
}

/// `min` / `max(value, case_sensitive=False, attribute=None)`; an empty input is undefined.
fn extreme(name: &str, v: JValue, pos: &[JValue], kw: &Kwargs, want: Ordering) -> Result<JValue, JError> {
    defined(&v)?;
    let [cs, attr] = bind(name, ["case_sensitive", "attribute"], pos, kw)?;
    let get = getter(&attr);
    let mut best: Option<(JValue, JValue)> = None;
    for x in items(&v)? {
        let key = get(&x)?;
        let better = match &best {
            None => true,
            Some((_, k)) => py_cmp(&key, k, flag(&cs))? == want,
        };
        if better {
            best = Some((x, key));
        }
    }
    Ok(best.map(|b| b.0).unwrap_or(JValue::UNDEFINED))
}

fn min(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    extreme("min", v, &pos, &kw, Ordering::Less)
}

fn max(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    extreme("max", v, &pos, &kw, Ordering::Greater)
}

/// Python's `round(x, n)` of a float: the decimal nearest to the exact binary value, ties to even.
pub fn py_round(x: f64, n: i32) -> f64 {
    if n >= 0 {
        format!("{x:.0$}", n as usize).parse().unwrap_or(x)
    } else {
        let p = 10f64.powi(-n);
        (x / p).round_ties_even() * p
    }
}

/// `round(value, precision=0, method='common')`: `common` is Python's `round`, keeping an int an
/// int; `floor` and `ceil` give floats.
fn round(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    defined(&v)?;
    let [precision, method] = bind("round", ["precision", "method"], &pos, &kw)?;
    let n = precision.map(i32::try_from).transpose()?.unwrap_or(0);
    let method = method.map(|m| text(&m)).unwrap_or_else(|| "common".into());
    if !matches!(method.as_str(), "common" | "floor" | "ceil") {
        return Err(err("method must be common, ceil or floor"));
    }
    if v.kind() != ValueKind::Number && v.kind() != ValueKind::Bool {
        return Err(err(format!("type {} doesn't define __round__ method", v.kind())));
    }
    if method == "common" && (v.is_integer() || v.kind() == ValueKind::Bool) {
        return Ok(JValue::from(i64::try_from(v)?));
    }
    let x = f64::try_from(v)?;
    let p = 10f64.powi(n);
    Ok(JValue::from(match method.as_str() {
        "floor" => (x * p).floor() / p,
        "ceil" => (x * p).ceil() / p,
        _ => py_round(x, n),
    }))
}

/// Python's `int(text, base)`: an optional sign, `_` between digits, a `0x`-style prefix when the
/// base allows it.
fn parse_int(s: &str, base: u32) -> Option<i64> {
    let t = s.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = t.to_ascii_lowercase();
    let digits = match base {
        16 => lower.strip_prefix("0x").unwrap_or(&lower),
        8 => lower.strip_prefix("0o").unwrap_or(&lower),
        2 => lower.strip_prefix("0b").unwrap_or(&lower),
        _ => &lower,
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let n = i64::from_str_radix(&digits.replace('_', ""), base).ok()?;
    Some(if neg { -n } else { n })
}

/// `int(value, default=0, base=10)`.
fn int(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    defined(&v)?;
    let [default, base] = bind("int", ["default", "base"], &pos, &kw)?;
    let default = default.unwrap_or(JValue::from(0));
    let base = base.map(u32::try_from).transpose()?.unwrap_or(10);
    Ok(match v.kind() {
        ValueKind::Bool => JValue::from(v.is_true() as i64),
        ValueKind::Number if v.is_integer() => v,
        ValueKind::Number => f64::try_from(v).ok().filter(|f| f.is_finite()).map(|f| JValue::from(f.trunc() as i64)).unwrap_or(default),
        ValueKind::String => {
            let s = text(&v);
            parse_int(&s, base)
                .map(JValue::from)
                .or_else(|| py_float(&s).filter(|f| f.is_finite()).map(|f| JValue::from(f.trunc() as i64)))
                .unwrap_or(default)
        }
        _ => default,
    })
}

/// Python's `float(text)`.
pub fn py_float(s: &str) -> Option<f64> {
    let t = s.trim().to_ascii_lowercase().replace('_', "");
    match t.trim_start_matches(['+', '-']) {
        "inf" | "infinity" | "nan" => t.replace("infinity", "inf").parse().ok(),
        r if r.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-')) && !r.is_empty() => t.parse().ok(),
        _ => None,
    }
}

/// `float(value, default=0.0)`.
fn float(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    defined(&v)?;
    let [default] = bind("float", ["default"], &pos, &kw)?;
    let default = default.unwrap_or(JValue::from(0.0));
    Ok(match v.kind() {
        ValueKind::Bool | ValueKind::Number => JValue::from(f64::try_from(v)?),
        ValueKind::String => py_float(&text(&v)).map(JValue::from).unwrap_or(default),
        _ => default,
    })
}

/// `dictsort(value, case_sensitive=False, by='key', reverse=False)`: (key, value) tuples.
fn dictsort(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    defined(&v)?;
    let [cs, by, reverse] = bind("dictsort", ["case_sensitive", "by", "reverse"], &pos, &kw)?;
    if v.kind() != ValueKind::Map {
        return Err(err("dictsort: the value is not a dict"));
    }
    let i = match by.map(|b| text(&b)).as_deref() {
        None | Some("key") => 0,
        Some("value") => 1,
        Some(_) => return Err(err("You can only sort by either \"key\" or \"value\"")),
    };
    let mut pairs: Vec<[JValue; 2]> = items(&v)?.into_iter().map(|k| [k.clone(), v.get_item(&k).unwrap_or_default()]).collect();
    let mut failure = None;
    let rev = flag(&reverse);
    pairs.sort_by(|a, b| {
        let o = py_cmp(&a[i], &b[i], flag(&cs)).unwrap_or_else(|e| {
            failure.get_or_insert(e);
            Ordering::Equal
        });
        if rev {
            o.reverse()
        } else {
            o
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(JValue::from(pairs.into_iter().map(|p| PyTuple::value(p.to_vec())).collect::<Vec<_>>()))
}

/// `items(value)`: (key, value) tuples.
fn items_filter(v: JValue) -> Result<JValue, JError> {
    if v.is_undefined() || v.is_none() {
        return Ok(JValue::from(Vec::<JValue>::new()));
    }
    if v.kind() != ValueKind::Map {
        return Err(err("Can only get item pairs from a mapping."));
    }
    Ok(JValue::from(
        items(&v)?.into_iter().map(|k| PyTuple::value(vec![k.clone(), v.get_item(&k).unwrap_or_default()])).collect::<Vec<_>>(),
    ))
}

/// `string(value)`: Python's `str()`.
fn string(v: JValue) -> Result<JValue, JError> {
    defined(&v)?;
    if v.is_safe() {
        return Ok(v);
    }
    Ok(JValue::from(text(&v)))
}

/// `join(value, d='', attribute=None)`: the items' `str()`.
fn join(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<String, JError> {
    defined(&v)?;
    let [d, attr] = bind("join", ["d", "attribute"], &pos, &kw)?;
    let get = getter(&attr);
    let mut parts: Vec<String> = Vec::new();
    for x in items(&v)? {
        let g = get(&x)?;
        defined(&g)?;
        parts.push(text(&g));
    }
    Ok(parts.join(&d.map(|d| text(&d)).unwrap_or_default()))
}

/// Python's `str.center(width, fill)`: the extra space goes right when the text length is even.
pub fn center_text(s: &str, width: usize, fill: char) -> String {
    let n = s.chars().count();
    if width <= n {
        return s.to_string();
    }
    let total = width - n;
    let left = total / 2 + (total & width & 1);
    let f = |k: usize| std::iter::repeat_n(fill, k).collect::<String>();
    format!("{}{s}{}", f(left), f(total - left))
}

/// `center(value, width=80)`.
fn center(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<String, JError> {
    defined(&v)?;
    let [width] = bind("center", ["width"], &pos, &kw)?;
    Ok(center_text(&text(&v), width.map(usize::try_from).transpose()?.unwrap_or(80), ' '))
}

/// `wordcount(s)`: the number of `\w+` runs.
fn wordcount(v: JValue) -> Result<usize, JError> {
    defined(&v)?;
    let s = text(&v);
    let mut n = 0;
    let mut inside = false;
    for c in s.chars() {
        let w = c.is_alphanumeric() || c == '_';
        if w && !inside {
            n += 1;
        }
        inside = w;
    }
    Ok(n)
}

/// `wordwrap(s, width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True)`: each
/// line wrapped at spaces as Python's `textwrap` does (runs of spaces at a break dropped, words
/// longer than `width` split when allowed).
fn wordwrap(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<String, JError> {
    defined(&v)?;
    let [width, break_long, wrapstring, _hyphens] =
        bind("wordwrap", ["width", "break_long_words", "wrapstring", "break_on_hyphens"], &pos, &kw)?;
    let width = width.map(usize::try_from).transpose()?.unwrap_or(79).max(1);
    let break_long = break_long.is_none_or(|b| b.is_true());
    let sep = wrapstring.map(|w| text(&w)).unwrap_or_else(|| "\n".into());
    let s = text(&v);
    let mut out: Vec<String> = Vec::new();
    for line in s.lines() {
        let mut chunks: Vec<String> = Vec::new();
        let mut cur = String::new();
        for c in line.chars() {
            if (c == ' ') != cur.starts_with(' ') && !cur.is_empty() {
                chunks.push(std::mem::take(&mut cur));
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            chunks.push(cur);
        }
        chunks.reverse();
        let mut lines: Vec<String> = Vec::new();
        while !chunks.is_empty() {
            let mut cur: Vec<String> = Vec::new();
            let mut len = 0;
            if !lines.is_empty() && chunks.last().is_some_and(|c| c.trim().is_empty()) {
                chunks.pop();
            }
            while let Some(c) = chunks.last() {
                let l = c.chars().count();
                if len + l <= width {
                    len += l;
                    cur.push(chunks.pop().unwrap_or_default());
                } else {
                    break;
                }
            }
            if let Some(c) = chunks.last().cloned() {
                if c.chars().count() > width {
                    // As textwrap's _handle_long_word: the room left is filled.
                    let room = width.saturating_sub(len);
                    if break_long {
                        chunks.pop();
                        if room > 0 {
                            cur.push(c.chars().take(room).collect());
                        }
                        chunks.push(c.chars().skip(room).collect());
                    } else if cur.is_empty() {
                        cur.push(chunks.pop().unwrap_or_default());
                    }
                }
            }
            // textwrap drops one trailing whitespace chunk.
            if cur.last().is_some_and(|c| c.trim().is_empty()) {
                cur.pop();
            }
            if !cur.is_empty() {
                lines.push(cur.concat());
            }
        }
        out.extend(lines);
    }
    Ok(out.join(&sep))
}

/// `filesizeformat(value, binary=False)`.
fn filesizeformat(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<String, JError> {
    let [binary] = bind("filesizeformat", ["binary"], &pos, &kw)?;
    let bytes = match v.kind() {
        ValueKind::String => py_float(&text(&v)).ok_or_else(|| err("could not convert string to float"))?,
        _ => f64::try_from(v)?,
    };
    let (base, prefixes): (f64, [&str; 8]) = if flag(&binary) {
        (1024.0, ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"])
    } else {
        (1000.0, ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"])
    };
    if bytes == 1.0 {
        return Ok("1 Byte".into());
    }
    if bytes < base {
        return Ok(format!("{} Bytes", bytes as i64));
    }
    let mut unit = base;
    for (i, p) in prefixes.iter().enumerate() {
        unit = base.powi(i as i32 + 2);
        if bytes < unit || i == prefixes.len() - 1 {
            return Ok(format!("{:.1} {p}", base * bytes / unit));
        }
    }
    Ok(format!("{:.1} {}", base * bytes / unit, prefixes[7]))
}

/// Percent-encodes UTF-8 as Python's `urllib.parse.quote`, keeping `safe` as is.
fn quote(s: &str, safe: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `urlencode(value)`: text quoted (`/` kept); a dict or pairs as a query string.
fn urlencode(v: JValue) -> Result<String, JError> {
    defined(&v)?;
    if v.kind() == ValueKind::String {
        return Ok(quote(&text(&v), "/"));
    }
    let pairs: Vec<(JValue, JValue)> = if v.kind() == ValueKind::Map {
        items(&v)?.into_iter().map(|k| (k.clone(), v.get_item(&k).unwrap_or_default())).collect()
    } else {
        items(&v)?
            .into_iter()
            .map(|p| (p.get_item(&JValue::from(0)).unwrap_or_default(), p.get_item(&JValue::from(1)).unwrap_or_default()))
            .collect()
    };
    let q = |v: &JValue| quote(&text(v), "").replace("%20", "+");
    Ok(pairs.iter().map(|(k, v)| format!("{}={}", q(k), q(v))).collect::<Vec<_>>().join("&"))
}

/// HTML escaping as markupsafe's (`&`, `<`, `>`, `"`, `'`).
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&#34;").replace('\'', "&#39;")
}

/// `escape(value)` / `e` / `forceescape`: markupsafe's escaping of `str(value)`.
fn escape(v: JValue) -> Result<JValue, JError> {
    defined(&v)?;
    if v.is_safe() {
        return Ok(v);
    }
    Ok(JValue::from_safe_string(html_escape(&text(&v))))
}

/// `xmlattr(d, autospace=True)`: ` key="value"` for each key whose value is not None/undefined.
fn xmlattr(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    let [autospace] = bind("xmlattr", ["autospace"], &pos, &kw)?;
    let mut out = String::new();
    for k in items(&v)? {
        let val = v.get_item(&k).unwrap_or_default();
        if val.is_none() || val.is_undefined() {
            continue;
        }
        let key = text(&k);
        if key.chars().any(|c| c.is_whitespace() || "/>=".contains(c)) {
            return Err(err(format!("Invalid character in attribute name: {key:?}")));
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{}=\"{}\"", html_escape(&key), html_escape(&text(&val))));
    }
    if !out.is_empty() && autospace.is_none_or(|a| a.is_true()) {
        out.insert(0, ' ');
    }
    Ok(JValue::from(out))
}

/// `striptags(value)`: tags and comments removed, entities decoded, whitespace collapsed.
fn striptags(v: JValue) -> Result<String, JError> {
    defined(&v)?;
    let s = text(&v);
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = if after.starts_with("<!--") { after.find("-->").map(|j| j + 3) } else { after.find('>').map(|j| j + 1) };
        match end {
            Some(j) => rest = &after[j..],
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    Ok(out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `urlize(value, trim_url_limit=None, nofollow=False, target=None, rel=None)`: the text
/// escaped, with `http(s)://…`, `www.…` and `….com/.net/.org` words as links (`rel="noopener"`)
/// and e-mail addresses as `mailto:` links, as Jinja2's.
fn urlize(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    defined(&v)?;
    let [limit, nofollow, target, rel, _schemes] =
        bind("urlize", ["trim_url_limit", "nofollow", "target", "rel", "extra_schemes"], &pos, &kw)?;
    let limit = limit.filter(|l| !l.is_none()).map(usize::try_from).transpose()?;
    let attrs = urlize_attrs(rel, &nofollow, target);
    let escaped = html_escape(&text(&v));
    let mut out = String::new();
    let mut word = String::new();
    for c in escaped.chars() {
        if c.is_whitespace() {
            urlize_word(&std::mem::take(&mut word), &attrs, limit, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    urlize_word(&word, &attrs, limit, &mut out);
    // A plain string, as Jinja2's without autoescape.
    Ok(JValue::from(out))
}

/// The `rel` (sorted, `noopener` by default, `nofollow` added) and `target` of urlize's links.
fn urlize_attrs(rel: Option<JValue>, nofollow: &Option<JValue>, target: Option<JValue>) -> String {
    let mut rels: Vec<String> =
        rel.filter(|r| !r.is_none()).map(|r| text(&r)).unwrap_or_else(|| "noopener".into()).split_whitespace().map(String::from).collect();
    if flag(nofollow) {
        rels.push("nofollow".into());
    }
    rels.sort();
    rels.dedup();
    format!(
        "{}{}",
        if rels.is_empty() { String::new() } else { format!(" rel=\"{}\"", html_escape(&rels.join(" "))) },
        target.filter(|t| !t.is_none()).map(|t| format!(" target=\"{}\"", html_escape(&text(&t)))).unwrap_or_default()
    )
}

/// One (escaped) word of urlize's text: leading `(` / `<` and trailing `)` / `>` / `.` / `,`
/// stay outside; what is between becomes a link when it is one.
fn urlize_word(w: &str, attrs: &str, limit: Option<usize>, out: &mut String) {
    let mut mid = w;
    let mut head = "";
    while let Some(r) = mid.strip_prefix('(').or_else(|| mid.strip_prefix('<')).or_else(|| mid.strip_prefix("&lt;")) {
        head = &w[..w.len() - r.len()];
        mid = r;
    }
    let mut cut = mid.len();
    loop {
        let m = &mid[..cut];
        if let Some(r) = m.strip_suffix("&gt;") {
            cut = r.len();
        } else if m.ends_with([')', '>', '.', ',', '\n']) {
            cut -= 1;
        } else {
            break;
        }
    }
    let (mid, tail) = mid.split_at(cut);
    out.push_str(head);
    out.push_str(&urlize_link(mid, attrs, limit));
    out.push_str(tail);
}

/// `mid` as a link (a URL, a `www.` or `.com/.net/.org` domain, an e-mail address), else as is.
fn urlize_link(mid: &str, attrs: &str, limit: Option<usize>) -> String {
    let shown = |u: &str| match limit {
        Some(l) if u.chars().count() > l => format!("{}...", u.chars().take(l).collect::<String>()),
        _ => u.to_string(),
    };
    let lower = mid.to_ascii_lowercase();
    let domain = |s: &str| {
        s.rsplit_once('.').is_some_and(|(a, tld)| {
            !a.is_empty() && matches!(tld, "com" | "net" | "org") && a.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        })
    };
    if lower.starts_with("http://") || lower.starts_with("https://") {
        format!("<a href=\"{mid}\"{attrs}>{}</a>", shown(mid))
    } else if lower.starts_with("www.") || domain(mid) {
        format!("<a href=\"https://{mid}\"{attrs}>{}</a>", shown(mid))
    } else if let Some((user, host)) = mid
        .strip_prefix("mailto:")
        .unwrap_or(mid)
        .split_once('@')
        .filter(|_| !mid.starts_with("www.") && (!mid.contains(':') || mid.starts_with("mailto:")))
    {
        if !user.is_empty()
            && host.contains('.')
            && !host.starts_with('.')
            && host.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        {
            let addr = mid.strip_prefix("mailto:").unwrap_or(mid);
            format!("<a href=\"mailto:{addr}\">{}</a>", if mid.starts_with("mailto:") { mid } else { addr })
        } else {
            mid.to_string()
        }
    } else {
        mid.to_string()
    }
}

/// `indent(s, width=4, first=False, blank=False)`; `width` may be text. As Jinja2's: lines
/// split as Python's `splitlines`, empty ones left alone unless `blank`.
fn indent(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<String, JError> {
    defined(&v)?;
    let [width, first, blank] = bind("indent", ["width", "first", "blank"], &pos, &kw)?;
    let pad = match width {
        Some(w) if w.kind() == ValueKind::String => text(&w),
        Some(w) => " ".repeat(usize::try_from(w)?),
        None => "    ".into(),
    };
    let s = text(&v) + "\n";
    let lines: Vec<&str> = s.lines().collect();
    let mut rv = if flag(&blank) {
        lines.join(&format!("\n{pad}"))
    } else {
        let mut rv = lines.first().copied().unwrap_or_default().to_string();
        for l in &lines[1.min(lines.len())..] {
            rv.push('\n');
            if !l.is_empty() {
                rv.push_str(&pad);
            }
            rv.push_str(l);
        }
        rv
    };
    if flag(&first) {
        rv.insert_str(0, &pad);
    }
    Ok(rv)
}

/// `upper`, `lower`, `capitalize`, `title`, `trim`, `replace` on `str(value)`, as Jinja2's.
fn upper(v: JValue) -> Result<String, JError> {
    defined(&v)?;
    Ok(text(&v).to_uppercase())
}

fn lower(v: JValue) -> Result<String, JError> {
    defined(&v)?;
    Ok(text(&v).to_lowercase())
}

pub fn capitalize_text(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect()).unwrap_or_default()
}

fn capitalize(v: JValue) -> Result<String, JError> {
    defined(&v)?;
    Ok(capitalize_text(&text(&v)))
}

/// Jinja2's `title`: each run after a space, `-`, `(`, `{`, `[` or `<` capitalized.
fn title(v: JValue) -> Result<String, JError> {
    defined(&v)?;
    let s = text(&v);
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        let sep = c.is_whitespace() || "-({[<".contains(c);
        if sep {
            out.push(c);
        } else if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = sep;
    }
    Ok(out)
}

fn trim(v: JValue, chars: Option<String>) -> Result<String, JError> {
    defined(&v)?;
    let s = text(&v);
    Ok(match chars {
        Some(cs) => s.trim_matches(|c| cs.contains(c)).to_string(),
        None => s.trim().to_string(),
    })
}

/// Python's `str.replace(old, new, count)`.
pub fn replace_text(s: &str, old: &str, new: &str, count: Option<i64>) -> String {
    match count {
        Some(n) if n >= 0 => s.replacen(old, new, n as usize),
        _ => s.replace(old, new),
    }
}

fn replace(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    defined(&v)?;
    let [old, new, count] = bind("replace", ["old", "new", "count"], &pos, &kw)?;
    let (Some(old), Some(new)) = (old, new) else {
        return Err(err("replace() missing required arguments 'old' and 'new'"));
    };
    let count = count.map(i64::try_from).transpose()?;
    Ok(JValue::from(replace_text(&text(&v), &text(&old), &text(&new), count)))
}

/// `pprint(value)`: Python's `repr()` (what `pprint.pformat` prints for values that fit a line).
fn pprint(v: JValue) -> Result<String, JError> {
    defined(&v)?;
    let mut s = String::new();
    py_str(&sorted_keys(v), false, &mut s);
    Ok(s)
}

/// The value with every dict's keys sorted (what `pprint` prints).
fn sorted_keys(v: JValue) -> JValue {
    match v.kind() {
        ValueKind::Map => {
            let mut keys: Vec<JValue> = v.try_iter().map(|i| i.collect()).unwrap_or_default();
            keys.sort_by(|a, b| py_cmp(a, b, true).unwrap_or(Ordering::Equal));
            JValue::from_iter(keys.into_iter().map(|k| (k.clone(), sorted_keys(v.get_item(&k).unwrap_or_default()))))
        }
        ValueKind::Seq if v.downcast_object_ref::<PyTuple>().is_none() => {
            JValue::from(v.try_iter().map(|i| i.map(sorted_keys).collect::<Vec<_>>()).unwrap_or_default())
        }
        _ => v,
    }
}

/// `format(value, *args, **kwargs)`: Python's `value % args`.
fn format(v: JValue, args: Rest<JValue>, kw: Kwargs) -> Result<String, JError> {
    defined(&v)?;
    let fmt = text(&v);
    let mapping: Vec<(String, JValue)> = kw.args().map(|k| (k.to_string(), kw.peek::<JValue>(k).unwrap_or_default())).collect();
    for (k, _) in &mapping {
        let _ = kw.get::<JValue>(k)?;
    }
    if !mapping.is_empty() && !args.is_empty() {
        return Err(err("can't handle positional and keyword arguments at the same time"));
    }
    if !mapping.is_empty() {
        return crate::pyformat::percent(&fmt, &JValue::from_iter(mapping), false);
    }
    crate::pyformat::percent(&fmt, &JValue::from(args.0), true)
}

/// Python's `a % b` (the rewritten `%` operator, see template_rewrite): text formatting when
/// `a` is text, else the floor modulo of numbers.
fn py_mod(a: JValue, b: JValue) -> Result<JValue, JError> {
    defined(&a)?;
    if a.kind() == ValueKind::String {
        // A tuple value (`.partition()`, `dictsort` pairs) is positional, as in Python.
        let tuple = b.downcast_object_ref::<PyTuple>().is_some_and(PyTuple::is_tuple);
        return crate::pyformat::percent(&text(&a), &b, tuple).map(JValue::from);
    }
    defined(&b)?;
    let num = |v: &JValue| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    if !num(&a) || !num(&b) {
        return Err(err(format!("unsupported operand type(s) for %: '{}' and '{}'", a.kind(), b.kind())));
    }
    let int = |v: &JValue| v.is_integer() || v.kind() == ValueKind::Bool;
    if int(&a) && int(&b) {
        let (x, y) = (i128::try_from(a)?, i128::try_from(b)?);
        if y == 0 {
            return Err(err("integer modulo by zero"));
        }
        return Ok(JValue::from(x.rem_euclid(y) + if y < 0 && x.rem_euclid(y) != 0 { y } else { 0 }));
    }
    let (x, y) = (as_f64(&a)?, as_f64(&b)?);
    if y == 0.0 {
        return Err(err("float modulo"));
    }
    // CPython's float modulo: the sign of the divisor, also for a zero result.
    let r = x % y;
    Ok(JValue::from(if r == 0.0 {
        0f64.copysign(y)
    } else if (r < 0.0) != (y < 0.0) {
        r + y
    } else {
        r
    }))
}

/// Python's unary `-x` and `+x` (the rewritten operators): numbers, and bools as 1 and 0.
fn py_neg(v: JValue) -> Result<JValue, JError> {
    unary(v, true)
}

fn py_pos(v: JValue) -> Result<JValue, JError> {
    unary(v, false)
}

fn unary(v: JValue, negate: bool) -> Result<JValue, JError> {
    defined(&v)?;
    let sign = if negate { -1 } else { 1 };
    match v.kind() {
        ValueKind::Bool => Ok(JValue::from(sign * v.is_true() as i64)),
        ValueKind::Number if v.is_integer() => Ok(JValue::from(i128::try_from(v)? * sign as i128)),
        ValueKind::Number => Ok(JValue::from(f64::try_from(v)? * sign as f64)),
        _ => Err(err(format!("bad operand type for unary {}: '{}'", if negate { '-' } else { '+' }, v.kind()))),
    }
}

/// Python's `a < b` (and `>`, `<=`, `>=`): unlike values are an error, not an order.
fn py_compare(a: JValue, op: String, b: JValue) -> Result<bool, JError> {
    defined(&a)?;
    defined(&b)?;
    match op.as_str() {
        "==" => return py_eq_strict(&a, &b),
        "!=" => return py_eq_strict(&a, &b).map(|e| !e),
        _ => {}
    }
    let o =
        py_cmp(&a, &b, true).map_err(|_| err(format!("'{op}' not supported between instances of '{}' and '{}'", a.kind(), b.kind())))?;
    Ok(match op.as_str() {
        "<" => o.is_lt(),
        ">" => o.is_gt(),
        "<=" => o.is_le(),
        _ => o.is_ge(),
    })
}

/// Python's `a in b`: a substring of text (then `a` must be text), an item of a list, a key of
/// a dict (then `a` must be hashable).
fn py_in(a: JValue, b: JValue, negate: bool) -> Result<bool, JError> {
    defined(&b)?;
    // An undefined needle fails only when compared (an empty list has nothing to compare).
    if !matches!(b.kind(), ValueKind::Seq | ValueKind::Iterable) {
        defined(&a)?;
    }
    let found = match b.kind() {
        ValueKind::String => match a.as_str() {
            Some(s) => text(&b).contains(s),
            None => return Err(err(format!("'in <string>' requires string as left operand, not {}", a.kind()))),
        },
        ValueKind::Map if matches!(a.kind(), ValueKind::Seq | ValueKind::Map) && !is_tuple(&a) => {
            return Err(err(format!("unhashable type: '{}'", a.kind())))
        }
        ValueKind::Map | ValueKind::Seq | ValueKind::Iterable => {
            let mut found = crate::json_view::branch_state_has(&b, &a);
            for x in items(&b)? {
                if found || py_eq_strict(&x, &a)? {
                    found = true;
                    break;
                }
            }
            found
        }
        _ => return Err(err(format!("argument of type '{}' is not iterable", b.kind()))),
    };
    Ok(found != negate)
}

/// Python's `==`, failing on an undefined value anywhere in a list (as upstream's strict
/// undefined does when compared).
fn py_eq_strict(a: &JValue, b: &JValue) -> Result<bool, JError> {
    defined(a)?;
    defined(b)?;
    if a.kind() == ValueKind::Seq && b.kind() == ValueKind::Seq {
        let (xs, ys) = (items(a)?, items(b)?);
        if xs.len() != ys.len() || is_tuple(a) != is_tuple(b) {
            return Ok(false);
        }
        for (x, y) in xs.iter().zip(&ys) {
            if !py_eq_strict(x, y)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    Ok(py_eq(a, b))
}

/// Python's `==`: bools are the numbers 1 and 0.
fn py_eq(a: &JValue, b: &JValue) -> bool {
    if is_num(a) && is_num(b) {
        return as_f64(a).ok() == as_f64(b).ok();
    }
    // A tuple never equals a list.
    if is_tuple(a) != is_tuple(b) {
        return false;
    }
    a == b
}

fn is_tuple(v: &JValue) -> bool {
    v.downcast_object_ref::<PyTuple>().is_some_and(PyTuple::is_tuple)
}

/// Python's `x[start:stop:step]` of text or a list.
fn py_slice(v: JValue, start: JValue, stop: JValue, step: JValue) -> Result<JValue, JError> {
    defined(&v)?;
    let opt = |b: &JValue| if b.is_none() { Ok(None) } else { i64::try_from(b.clone()).map(Some) };
    let step = opt(&step)?.unwrap_or(1);
    if step == 0 {
        return Err(err("slice step cannot be zero"));
    }
    let text_value = v.kind() == ValueKind::String;
    let xs: Vec<JValue> = match v.kind() {
        ValueKind::String => text(&v).chars().map(|c| JValue::from(c.to_string())).collect(),
        ValueKind::Seq | ValueKind::Iterable => items(&v)?,
        _ => return Err(err(format!("'{}' object is not subscriptable", v.kind()))),
    };
    let len = xs.len() as i64;
    let clamp = |i: Option<i64>, default: i64, lo: i64, hi: i64| match i {
        None => default,
        Some(i) if i < 0 => (i + len).max(lo),
        Some(i) => i.min(hi),
    };
    let (from, to) = if step > 0 {
        (clamp(opt(&start)?, 0, 0, len), clamp(opt(&stop)?, len, 0, len))
    } else {
        (clamp(opt(&start)?, len - 1, -1, len - 1), clamp(opt(&stop)?, -1, -1, len - 1))
    };
    let mut out = Vec::new();
    let mut i = from;
    while (step > 0 && i < to) || (step < 0 && i > to) {
        out.push(xs[i as usize].clone());
        i += step;
    }
    Ok(if text_value { JValue::from(out.iter().map(text).collect::<String>()) } else { JValue::from(out) })
}

/// `selectattr` / `rejectattr(value, attribute, test=None, *args)`: a missing attribute is an
/// error, as upstream's strict undefined.
fn select_attr(state: &minijinja::State, v: JValue, args: Rest<JValue>, keep: bool) -> Result<JValue, JError> {
    let attr = args.first().cloned().ok_or_else(|| err("selectattr() needs an attribute"))?;
    let attr = Some(attr);
    let get = getter(&attr);
    let mut out = Vec::new();
    for x in items(&v)? {
        let a = get(&x)?;
        let ok = match args.get(1) {
            None => {
                defined(&a)?;
                a.is_true()
            }
            Some(t) => {
                if !matches!(t.as_str(), Some("defined" | "undefined")) {
                    defined(&a)?;
                }
                let mut targs = vec![a];
                targs.extend(args[2..].iter().cloned());
                state.perform_test(t.as_str().ok_or_else(|| err("a test name must be text"))?, &targs)?
            }
        };
        if ok == keep {
            out.push(x);
        }
    }
    Ok(JValue::from(out))
}

fn selectattr(state: &minijinja::State, v: JValue, args: Rest<JValue>) -> Result<JValue, JError> {
    select_attr(state, v, args, true)
}

fn rejectattr(state: &minijinja::State, v: JValue, args: Rest<JValue>) -> Result<JValue, JError> {
    select_attr(state, v, args, false)
}

/// `map(attribute=..., default=...)` (a missing attribute without a default is an error) or
/// `map('filter', *args)`.
fn map(state: &minijinja::State, v: JValue, args: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    if kw.has("attribute") {
        let attr: Option<JValue> = kw.get("attribute")?;
        let default: Option<JValue> = kw.get("default")?;
        kw.assert_all_used()?;
        let get = getter(&attr);
        // As Jinja2's: a missing attribute is the default, else undefined (an error once used).
        let pick = |x: &JValue| get(x).ok().filter(|g| !g.is_undefined()).or(default.clone()).unwrap_or(JValue::UNDEFINED);
        return Ok(JValue::from(items(&v)?.iter().map(pick).collect::<Vec<_>>()));
    }
    let name = args.first().and_then(|n| n.as_str().map(String::from)).ok_or_else(|| err("map() needs a filter name or attribute="))?;
    let mut out = Vec::new();
    for x in items(&v)? {
        let mut fargs = vec![x];
        fargs.extend(args[1..].iter().cloned());
        if !kw.args().collect::<Vec<_>>().is_empty() {
            fargs.push(JValue::from(kw.clone()));
        }
        out.push(state.apply_filter(&name, &fargs)?);
    }
    Ok(JValue::from(out))
}

/// The `in` test: `x is in y`, as Python's `in`.
fn is_in(a: JValue, b: JValue) -> Result<bool, JError> {
    py_in(a, b, false)
}

/// Jinja2's `filter` and `test` tests: whether a filter or test has that name.
fn is_filter(state: &minijinja::State, v: JValue) -> Result<bool, JError> {
    hashable(&v)?;
    Ok(v.as_str().is_some_and(|n| minijinja::tests::is_filter(state, n)))
}

fn is_test(state: &minijinja::State, v: JValue) -> Result<bool, JError> {
    hashable(&v)?;
    Ok(v.as_str().is_some_and(|n| minijinja::tests::is_test(state, n)))
}

fn hashable(v: &JValue) -> Result<(), JError> {
    defined(v)?;
    match v.kind() {
        ValueKind::Seq | ValueKind::Map if v.downcast_object_ref::<PyTuple>().is_none() => {
            Err(err(format!("unhashable type: '{}'", v.kind())))
        }
        _ => Ok(()),
    }
}

/// Python's `a + b`: numbers (bools as 1 and 0), text + text, list + list.
fn py_add(a: JValue, b: JValue) -> Result<JValue, JError> {
    defined(&a)?;
    defined(&b)?;
    if let Some(joined) = markup_join(&a, &b) {
        return Ok(joined);
    }
    match (a.kind(), b.kind()) {
        (ValueKind::String, ValueKind::String) => Ok(JValue::from(text(&a) + &text(&b))),
        _ => add(a, &b),
    }
}

/// `a ~ b`: Python's `str()` of each, joined.
fn py_cat(a: JValue, b: JValue) -> Result<JValue, JError> {
    defined(&a)?;
    defined(&b)?;
    // Jinja2 joins `~` with `str()` (no escaping without autoescape).
    Ok(JValue::from(text(&a) + &text(&b)))
}

/// `+` of escaped text (`| escape`, `| tojson`) and other text escapes the other, as
/// markupsafe's `Markup` does; None when neither is escaped text.
fn markup_join(a: &JValue, b: &JValue) -> Option<JValue> {
    if !(a.is_safe() || b.is_safe()) || a.kind() != ValueKind::String || b.kind() != ValueKind::String {
        return None;
    }
    let part = |v: &JValue| if v.is_safe() { text(v) } else { html_escape(&text(v)) };
    Some(JValue::from_safe_string(part(a) + &part(b)))
}

/// Python's `a - b` of numbers.
fn py_sub(a: JValue, b: JValue) -> Result<JValue, JError> {
    defined(&a)?;
    defined(&b)?;
    if !is_num(&a) || !is_num(&b) {
        return Err(err(format!("unsupported operand type(s) for -: '{}' and '{}'", a.kind(), b.kind())));
    }
    if is_int(&a) && is_int(&b) {
        let (x, y) = (i128::try_from(a.clone())?, i128::try_from(b.clone())?);
        if let Some(d) = x.checked_sub(y) {
            return Ok(JValue::from(d));
        }
    }
    Ok(JValue::from(as_f64(&a)? - as_f64(&b)?))
}

/// Python's `a ** b`: an int for int bases and exponents from 0, else a float.
fn py_pow(a: JValue, b: JValue) -> Result<JValue, JError> {
    defined(&a)?;
    defined(&b)?;
    if !is_num(&a) || !is_num(&b) {
        return Err(err(format!("unsupported operand type(s) for ** or pow(): '{}' and '{}'", a.kind(), b.kind())));
    }
    let (x, y) = (as_f64(&a)?, as_f64(&b)?);
    if x == 0.0 && y < 0.0 {
        return Err(err("0.0 cannot be raised to a negative power"));
    }
    if x < 0.0 && y.fract() != 0.0 {
        return Err(err("a negative number to a fractional power is a complex number in Python; templates have none"));
    }
    if is_int(&a) && is_int(&b) && y >= 0.0 {
        let base = i128::try_from(a)?;
        if let Some(p) = u32::try_from(i128::try_from(b)?).ok().and_then(|e| base.checked_pow(e)) {
            return Ok(JValue::from(p));
        }
        return Err(err("the power is past 128-bit integers (Python's are unbounded)"));
    }
    let p = x.powf(y);
    if p.is_infinite() && x.is_finite() && y.is_finite() {
        return Err(err("OverflowError: numerical result out of range"));
    }
    Ok(JValue::from(p))
}

fn is_num(v: &JValue) -> bool {
    matches!(v.kind(), ValueKind::Number | ValueKind::Bool)
}

fn is_int(v: &JValue) -> bool {
    v.kind() == ValueKind::Bool || v.is_integer()
}

/// A number (a bool as 1 or 0) as a float.
fn as_f64(v: &JValue) -> Result<f64, JError> {
    match v.kind() {
        ValueKind::Bool => Ok(if v.is_true() { 1.0 } else { 0.0 }),
        _ => f64::try_from(v.clone()),
    }
}

/// Python's `a / b`: always a float; dividing by zero is an error.
fn py_div(a: JValue, b: JValue) -> Result<JValue, JError> {
    defined(&a)?;
    defined(&b)?;
    let num = |v: &JValue| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    if !num(&a) || !num(&b) {
        return Err(err(format!("unsupported operand type(s) for /: '{}' and '{}'", a.kind(), b.kind())));
    }
    let (x, y) = (as_f64(&a)?, as_f64(&b)?);
    if y == 0.0 {
        return Err(err("division by zero"));
    }
    Ok(JValue::from(x / y))
}

/// Python's `a * b`: numbers (bools as 1 and 0), or text or a list repeated (none when the count
/// is below 1).
fn py_mul(a: JValue, b: JValue) -> Result<JValue, JError> {
    defined(&a)?;
    defined(&b)?;
    let int = |v: &JValue| v.is_integer() || v.kind() == ValueKind::Bool;
    let num = |v: &JValue| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    let count = |v: &JValue| -> Result<usize, JError> { Ok(usize::try_from(i128::try_from(v.clone()).unwrap_or(0).max(0)).unwrap_or(0)) };
    let (seq, n) = match (a.kind(), b.kind()) {
        (ValueKind::String | ValueKind::Seq, _) if int(&b) && num(&b) => (&a, count(&b)?),
        (_, ValueKind::String | ValueKind::Seq) if int(&a) && num(&a) => (&b, count(&a)?),
        _ if num(&a) && num(&b) => {
            if int(&a) && int(&b) {
                let x = i128::try_from(a.clone())? * i128::try_from(b.clone())?;
                return Ok(JValue::from(x));
            }
            return Ok(JValue::from(as_f64(&a)? * as_f64(&b)?));
        }
        _ => return Err(err(format!("unsupported operand type(s) for *: '{}' and '{}'", a.kind(), b.kind()))),
    };
    if n.saturating_mul(seq.len().unwrap_or(1)) > crate::limits::MAX_TEMPLATE_OUTPUT {
        // Reported as TOO_LARGE (the template output limit).
        return Err(JError::new(ErrorKind::WriteFailure, "the repeated value is too large"));
    }
    Ok(if seq.kind() == ValueKind::String {
        JValue::from(text(seq).repeat(n))
    } else {
        let xs = items(seq)?;
        let out: Vec<JValue> = (0..n).flat_map(|_| xs.iter().cloned()).collect();
        if is_tuple(seq) {
            PyTuple::value(out)
        } else {
            JValue::from(out)
        }
    })
}

/// Python's `a // b`: the floor of the quotient.
fn py_floordiv(a: JValue, b: JValue) -> Result<JValue, JError> {
    defined(&a)?;
    defined(&b)?;
    let num = |v: &JValue| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    if !num(&a) || !num(&b) {
        return Err(err(format!("unsupported operand type(s) for //: '{}' and '{}'", a.kind(), b.kind())));
    }
    let int = |v: &JValue| v.is_integer() || v.kind() == ValueKind::Bool;
    if int(&a) && int(&b) {
        let (x, y) = (i128::try_from(a)?, i128::try_from(b)?);
        if y == 0 {
            return Err(err("integer division or modulo by zero"));
        }
        let q = x / y;
        return Ok(JValue::from(if (x % y != 0) && ((x < 0) != (y < 0)) { q - 1 } else { q }));
    }
    let (x, y) = (as_f64(&a)?, as_f64(&b)?);
    if y == 0.0 {
        return Err(err("float floor division by zero"));
    }
    // CPython's float_floor_div (through fmod, so `3 // 0.1` is 29.0).
    let m = x % y;
    let mut div = (x - m) / y;
    if m != 0.0 && ((y < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    let q = if div != 0.0 {
        let f = div.floor();
        if div - f > 0.5 {
            f + 1.0
        } else {
            f
        }
    } else {
        0f64.copysign(x / y)
    };
    Ok(JValue::from(q))
}

/// `groupby(value, attribute, default=None, case_sensitive=False)`: `(grouper, list)` pairs
/// sorted by the grouper.
fn groupby(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    let [attr, default, cs] = bind("groupby", ["attribute", "default", "case_sensitive"], &pos, &kw)?;
    let get = getter(&attr);
    let mut pairs = Vec::new();
    for x in items(&v)? {
        let key = match (get(&x)?, &default) {
            (k, Some(d)) if k.is_undefined() => d.clone(),
            (k, _) => k,
        };
        let sort_key = if !flag(&cs) && key.kind() == ValueKind::String { JValue::from(text(&key).to_lowercase()) } else { key.clone() };
        pairs.push((sort_key, (key, x)));
    }
    let mut keyed: Vec<(JValue, JValue)> = pairs.iter().map(|(k, (_, x))| (k.clone(), x.clone())).collect();
    sort_by_key(&mut keyed, true, false)?;
    let mut groups: Vec<(JValue, JValue, Vec<JValue>)> = Vec::new();
    for (sk, x) in keyed {
        match groups.last_mut() {
            Some(g) if g.0 == sk => g.2.push(x),
            _ => {
                let shown = pairs.iter().find(|p| p.0 == sk).map(|p| p.1 .0.clone()).unwrap_or_default();
                groups.push((sk, shown, vec![x]));
            }
        }
    }
    Ok(JValue::from(groups.into_iter().map(|g| PyTuple::group(g.1, JValue::from(g.2))).collect::<Vec<_>>()))
}

/// `fmt % (a, b)`: the tuple form of the rewritten `%` operator.
fn py_mod_tuple(a: JValue, items: Rest<JValue>) -> Result<JValue, JError> {
    defined(&a)?;
    if a.kind() != ValueKind::String {
        return Err(err(format!("unsupported operand type(s) for %: '{}' and 'tuple'", a.kind())));
    }
    crate::pyformat::percent(&text(&a), &JValue::from(items.0), true).map(JValue::from)
}

/// `list(value)`: a string's characters, a dict's keys, a sequence's items; None is an error.
fn list(v: JValue) -> Result<JValue, JError> {
    defined(&v)?;
    match v.kind() {
        ValueKind::String => Ok(JValue::from(text(&v).chars().map(|c| JValue::from(c.to_string())).collect::<Vec<_>>())),
        ValueKind::None => Err(err("'NoneType' object is not iterable")),
        _ => Ok(JValue::from(items(&v)?)),
    }
}

/// Upstream's undefined values are strict: using one in a filter is an error.
pub fn defined(v: &JValue) -> Result<(), JError> {
    if v.is_undefined() {
        return Err(JError::new(ErrorKind::UndefinedError, "an undefined value was used"));
    }
    Ok(())
}

/// Sorts by Python's `<` (stable, also when reversed), failing where Python would (unlike
/// values).
fn sort_by_key(pairs: &mut [(JValue, JValue)], case_sensitive: bool, reverse: bool) -> Result<(), JError> {
    let mut failure = None;
    pairs.sort_by(|a, b| {
        let o = py_cmp(&a.0, &b.0, case_sensitive).unwrap_or_else(|e| {
            failure.get_or_insert(e);
            Ordering::Equal
        });
        if reverse {
            o.reverse()
        } else {
            o
        }
    });
    failure.map_or(Ok(()), Err)
}

/// `sort(value, reverse=False, case_sensitive=False, attribute=None)`; `attribute` may list
/// several, comma-separated.
fn sort(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    let [reverse, cs, attr] = bind("sort", ["reverse", "case_sensitive", "attribute"], &pos, &kw)?;
    let attrs: Vec<Option<JValue>> = match &attr {
        Some(a) if a.kind() == ValueKind::String => text(a).split(',').map(|p| Some(JValue::from(p.trim()))).collect(),
        other => vec![other.clone()],
    };
    let mut pairs = Vec::new();
    for x in items(&v)? {
        let keys = attrs.iter().map(|a| getter(a)(&x)).collect::<Result<Vec<_>, _>>()?;
        let key = if keys.len() == 1 { keys.into_iter().next().unwrap_or_default() } else { JValue::from(keys) };
        pairs.push((key, x));
    }
    sort_by_key(&mut pairs, flag(&cs), flag(&reverse))?;
    Ok(JValue::from(pairs.into_iter().map(|p| p.1).collect::<Vec<_>>()))
}

/// `unique(value, case_sensitive=False, attribute=None)`: first occurrences, in order.
fn unique(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    let [cs, attr] = bind("unique", ["case_sensitive", "attribute"], &pos, &kw)?;
    let get = getter(&attr);
    let mut seen: Vec<JValue> = Vec::new();
    let mut out = Vec::new();
    for x in items(&v)? {
        let mut key = get(&x)?;
        defined(&key)?;
        if matches!(key.kind(), ValueKind::Seq | ValueKind::Map) {
            return Err(err(format!("unhashable type: '{}'", key.kind())));
        }
        if !flag(&cs) && key.kind() == ValueKind::String {
            key = JValue::from(text(&key).to_lowercase());
        }
        if !seen.contains(&key) {
            seen.push(key);
            out.push(x);
        }
    }
    Ok(JValue::from(out))
}

/// `slice(value, slices, fill_with=None)` and `batch(value, linecount, fill_with=None)`.
fn slice(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    let [n, fill] = bind("slice", ["slices", "fill_with"], &pos, &kw)?;
    let n = n.map(usize::try_from).transpose()?.filter(|n| *n > 0).ok_or_else(|| err("slice() needs a positive number of slices"))?;
    let xs = items(&v)?;
    let per = xs.len() / n;
    let extra = xs.len() % n;
    let mut out = Vec::new();
    let mut at = 0;
    for i in 0..n {
        let len = per + usize::from(i < extra);
        let mut part: Vec<JValue> = xs[at..at + len].to_vec();
        at += len;
        if let (Some(f), true) = (&fill, i >= extra) {
            part.push(f.clone());
        }
        out.push(JValue::from(part));
    }
    Ok(JValue::from(out))
}

fn batch(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<JValue, JError> {
    let [n, fill] = bind("batch", ["linecount", "fill_with"], &pos, &kw)?;
    let n = n.map(usize::try_from).transpose()?.filter(|n| *n > 0).ok_or_else(|| err("batch() needs a positive line count"))?;
    let mut out: Vec<JValue> = Vec::new();
    for chunk in items(&v)?.chunks(n) {
        let mut part = chunk.to_vec();
        if let Some(f) = &fill {
            part.resize(n, f.clone());
        }
        out.push(JValue::from(part));
    }
    Ok(JValue::from(out))
}

/// `truncate(s, length=255, killwords=False, end='...', leeway=None)`.
fn truncate(v: JValue, pos: Rest<JValue>, kw: Kwargs) -> Result<String, JError> {
    defined(&v)?;
    let [length, killwords, end, leeway] = bind("truncate", ["length", "killwords", "end", "leeway"], &pos, &kw)?;
    let length = length.map(usize::try_from).transpose()?;
    let leeway = leeway.map(usize::try_from).transpose()?;
    Ok(crate::pyfmt::truncate_filter(text(&v), length, Some(flag(&killwords)), end.map(|e| text(&e)), leeway))
}

/// Python's `isinstance` kinds behind Jinja2's tests.
fn is_number(v: JValue) -> bool {
    matches!(v.kind(), ValueKind::Number | ValueKind::Bool)
}

fn is_integer(v: JValue) -> bool {
    v.kind() == ValueKind::Number && v.is_integer()
}

fn is_float(v: JValue) -> bool {
    v.kind() == ValueKind::Number && !v.is_integer()
}

fn is_iterable(v: JValue) -> Result<bool, JError> {
    defined(&v)?;
    Ok(matches!(v.kind(), ValueKind::String | ValueKind::Seq | ValueKind::Map | ValueKind::Iterable))
}

fn is_sequence(v: JValue) -> bool {
    matches!(v.kind(), ValueKind::String | ValueKind::Seq | ValueKind::Map)
}

/// `odd`, `even`, `divisibleby`: Python's `value % n` compared, as Jinja2's tests.
fn is_odd(v: JValue) -> Result<bool, JError> {
    Ok(py_eq(&py_mod(v, JValue::from(2))?, &JValue::from(1)))
}

fn is_even(v: JValue) -> Result<bool, JError> {
    Ok(py_eq(&py_mod(v, JValue::from(2))?, &JValue::from(0)))
}

fn is_divisibleby(v: JValue, n: JValue) -> Result<bool, JError> {
    Ok(py_eq(&py_mod(v, n)?, &JValue::from(0)))
}

fn is_lower(v: JValue) -> Result<bool, JError> {
    defined(&v)?;
    let s = text(&v);
    Ok(s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase))
}

fn is_upper(v: JValue) -> Result<bool, JError> {
    defined(&v)?;
    let s = text(&v);
    Ok(s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase))
}

/// `callable`: functions, macros and methods.
fn is_callable(v: JValue) -> bool {
    // Jinja2's strict undefined is callable (calling it is the error).
    v.kind() == ValueKind::Plain || v.is_undefined()
}

/// Jinja2's `cycler(*items)`: `.next()` gives the items in turn, `.current` the next one,
/// `.reset()` starts over.
#[derive(Debug)]
struct Cycler(Vec<JValue>, std::sync::atomic::AtomicUsize);

impl Object for Cycler {
    fn get_value(self: &std::sync::Arc<Self>, key: &JValue) -> Option<JValue> {
        (key.as_str()? == "current").then(|| self.0[self.1.load(Relaxed) % self.0.len()].clone())
    }

    fn call_method(self: &std::sync::Arc<Self>, _: &minijinja::State, method: &str, _: &[JValue]) -> Result<JValue, JError> {
        match method {
            "next" => Ok(self.0[self.1.fetch_add(1, Relaxed) % self.0.len()].clone()),
            "reset" => {
                self.1.store(0, Relaxed);
                Ok(JValue::from(()))
            }
            _ => Err(JError::from(ErrorKind::UnknownMethod)),
        }
    }
}

fn cycler(items: Rest<JValue>) -> Result<JValue, JError> {
    if items.is_empty() {
        return Err(err("at least one item has to be provided"));
    }
    Ok(JValue::from_object(Cycler(items.0, 0.into())))
}

/// Jinja2's `joiner(sep=', ')`: a callable giving "" the first time and `sep` after.
#[derive(Debug)]
struct Joiner(String, std::sync::atomic::AtomicBool);

impl Object for Joiner {
    fn call(self: &std::sync::Arc<Self>, _: &minijinja::State, _: &[JValue]) -> Result<JValue, JError> {
        Ok(JValue::from(if self.1.swap(true, Relaxed) { self.0.as_str() } else { "" }))
    }
}

fn joiner(sep: Option<String>) -> JValue {
    JValue::from_object(Joiner(sep.unwrap_or_else(|| ", ".into()), false.into()))
}

/// `eq` / `ne`: Python's `==` (an undefined value is an error).
fn is_eq(a: JValue, b: JValue) -> Result<bool, JError> {
    py_eq_strict(&a, &b)
}

fn is_ne(a: JValue, b: JValue) -> Result<bool, JError> {
    is_eq(a, b).map(|e| !e)
}

/// Jinja2's ordering tests (`lt`, `<`, `lessthan`...), with Python's comparison.
fn is_lt(a: JValue, b: JValue) -> Result<bool, JError> {
    py_compare(a, "<".into(), b)
}

fn is_le(a: JValue, b: JValue) -> Result<bool, JError> {
    py_compare(a, "<=".into(), b)
}

fn is_gt(a: JValue, b: JValue) -> Result<bool, JError> {
    py_compare(a, ">".into(), b)
}

fn is_ge(a: JValue, b: JValue) -> Result<bool, JError> {
    py_compare(a, ">=".into(), b)
}

type Signature = (Option<usize>, &'static [&'static str]);

/// The arguments each filter and test takes after its value (Jinja2's signatures, and upstream
/// TEA's `fromjson`, `json`, `sha256`; `default` also takes Tera's `value=`): at most so many
/// positional ones (None: any) and these keywords. None for a name that is neither.
pub fn signature(kind: &str, name: &str) -> Option<Signature> {
    const ANY: Signature = (None, &[]);
    const NONE: Signature = (Some(0), &[]);
    let filter: Signature = match name {
        "abs" | "capitalize" | "count" | "e" | "escape" | "first" | "forceescape" | "fromjson" | "from_json" | "items" | "json"
        | "last" | "length" | "list" | "lower" | "pprint" | "reverse" | "safe" | "sha256" | "string" | "striptags" | "title" | "upper"
        | "urlencode" | "wordcount" => NONE,
        "format" | "map" | "reject" | "rejectattr" | "select" | "selectattr" => ANY,
        "attr" => (Some(1), &["name"]),
        "batch" => (Some(2), &["linecount", "fill_with"]),
        "center" => (Some(1), &["width"]),
        "default" | "d" => (Some(2), &["default_value", "boolean", "value"]),
        "dictsort" => (Some(3), &["case_sensitive", "by", "reverse"]),
        "filesizeformat" => (Some(1), &["binary"]),
        "float" => (Some(1), &["default"]),
        "groupby" => (Some(3), &["attribute", "default", "case_sensitive"]),
        "indent" => (Some(3), &["width", "first", "blank"]),
        "int" => (Some(2), &["default", "base"]),
        "join" => (Some(2), &["d", "attribute"]),
        "max" | "min" => (Some(2), &["case_sensitive", "attribute"]),
        "replace" => (Some(3), &["old", "new", "count"]),
        "round" => (Some(2), &["precision", "method"]),
        "slice" => (Some(2), &["slices", "fill_with"]),
        "sort" => (Some(3), &["reverse", "case_sensitive", "attribute"]),
        "sum" => (Some(2), &["attribute", "start"]),
        "tojson" => (Some(1), &["indent"]),
        "trim" => (Some(1), &["chars"]),
        "truncate" => (Some(4), &["length", "killwords", "end", "leeway"]),
        "unique" => (Some(2), &["case_sensitive", "attribute"]),
        "urlize" => (Some(4), &["trim_url_limit", "nofollow", "target", "rel", "extra_schemes"]),
        "wordwrap" => (Some(4), &["width", "break_long_words", "wrapstring", "break_on_hyphens"]),
        "xmlattr" => (Some(1), &["autospace"]),
        _ => return if kind == "test" { test_signature(name) } else { None },
    };
    if kind == "test" {
        return test_signature(name);
    }
    Some(filter)
}

fn test_signature(name: &str) -> Option<Signature> {
    match name {
        "boolean" | "callable" | "defined" | "escaped" | "even" | "false" | "filter" | "float" | "integer" | "iterable" | "lower"
        | "mapping" | "none" | "number" | "odd" | "safe" | "sequence" | "string" | "test" | "true" | "undefined" | "upper" => {
            Some((Some(0), &[]))
        }
        "divisibleby" | "eq" | "equalto" | "==" | "ne" | "!=" | "lt" | "lessthan" | "<" | "le" | "<=" | "gt" | "greaterthan" | ">"
        | "ge" | ">=" | "in" | "sameas" => Some((Some(1), &[])),
        _ => None,
    }
}

/// Jinja2's filters, tests and globals on an empty minijinja environment: minijinja's own where
/// they behave as Jinja2's, ours where they do not (or are missing). minijinja-only ones
/// (`bool`, `split`, `lines`, `chain`, `zip`, `startingwith`, ...) are left out: upstream rejects
/// them.
pub fn register(env: &mut Environment<'static>) {
    register_builtins(env);
    register_filters(env);
    register_tests_and_globals(env);
    register_python_operators(env);
}

/// minijinja's own filters, tests and globals where they behave as Jinja2's (and the
/// comparison tests under all of Jinja2's names).
fn register_builtins(env: &mut Environment<'static>) {
    use minijinja::{filters as mf, functions as mfn, tests as mt};
    env.add_filter("safe", mf::safe);
    env.add_filter("length", mf::length);
    env.add_filter("count", mf::length);
    env.add_filter("reverse", mf::reverse);
    env.add_filter("abs", mf::abs);
    env.add_filter("attr", mf::attr);
    env.add_filter("first", mf::first);
    env.add_filter("last", mf::last);
    env.add_filter("select", mf::select);
    env.add_filter("reject", mf::reject);
    env.add_filter("groupby", groupby);
    env.add_test("undefined", mt::is_undefined);
    env.add_test("defined", mt::is_defined);
    env.add_test("none", mt::is_none);
    env.add_test("safe", mt::is_safe);
    env.add_test("escaped", mt::is_safe);
    env.add_test("boolean", mt::is_boolean);
    env.add_test("string", mt::is_string);
    env.add_test("mapping", mt::is_mapping);
    env.add_test("sameas", mt::is_sameas);
    env.add_test("true", mt::is_true);
    env.add_test("false", mt::is_false);
    for name in ["eq", "equalto", "=="] {
        env.add_test(name, is_eq);
    }
    for name in ["ne", "!="] {
        env.add_test(name, is_ne);
    }
    for name in ["lt", "lessthan", "<"] {
        env.add_test(name, is_lt);
    }
    for name in ["le", "<="] {
        env.add_test(name, is_le);
    }
    for name in ["gt", "greaterthan", ">"] {
        env.add_test(name, is_gt);
    }
    for name in ["ge", ">="] {
        env.add_test(name, is_ge);
    }
    env.add_function("range", mfn::range);
    env.add_function("dict", mfn::dict);
    env.add_function("namespace", mfn::namespace);
}

/// Jinja2's filters as this engine implements them.
fn register_filters(env: &mut Environment<'static>) {
    env.add_filter("sum", sum);
    env.add_filter("min", min);
    env.add_filter("max", max);
    env.add_filter("round", round);
    env.add_filter("int", int);
    env.add_filter("float", float);
    env.add_filter("dictsort", dictsort);
    env.add_filter("items", items_filter);
    env.add_filter("string", string);
    env.add_filter("join", join);
    env.add_filter("center", center);
    env.add_filter("wordcount", wordcount);
    env.add_filter("wordwrap", wordwrap);
    env.add_filter("filesizeformat", filesizeformat);
    env.add_filter("urlencode", urlencode);
    env.add_filter("escape", escape);
    env.add_filter("e", escape);
    env.add_filter("forceescape", escape);
    env.add_filter("xmlattr", xmlattr);
    env.add_filter("urlize", urlize);
    env.add_filter("striptags", striptags);
    env.add_filter("indent", indent);
    env.add_filter("upper", upper);
    env.add_filter("lower", lower);
    env.add_filter("capitalize", capitalize);
    env.add_filter("title", title);
    env.add_filter("trim", trim);
    env.add_filter("replace", replace);
    env.add_filter("pprint", pprint);
    env.add_filter("format", format);
    env.add_filter("list", list);
    env.add_filter("sort", sort);
    env.add_filter("unique", unique);
    env.add_filter("slice", slice);
    env.add_filter("batch", batch);
    env.add_filter("truncate", truncate);
    env.add_filter("selectattr", selectattr);
    env.add_filter("rejectattr", rejectattr);
    env.add_filter("map", map);
}

/// Jinja2's tests and globals as this engine implements them.
fn register_tests_and_globals(env: &mut Environment<'static>) {
    env.add_test("number", is_number);
    env.add_test("integer", is_integer);
    env.add_test("float", is_float);
    env.add_test("iterable", is_iterable);
    env.add_test("sequence", is_sequence);
    env.add_test("odd", is_odd);
    env.add_test("even", is_even);
    env.add_test("divisibleby", is_divisibleby);
    env.add_test("lower", is_lower);
    env.add_test("upper", is_upper);
    env.add_test("in", is_in);
    env.add_test("filter", is_filter);
    env.add_test("test", is_test);
    env.add_test("callable", is_callable);
    env.add_function("cycler", cycler);
    env.add_function("joiner", joiner);
}

/// The filters the template rewrite (template_rewrite.rs) turns Python's operators into.
fn register_python_operators(env: &mut Environment<'static>) {
    env.add_filter("__py_mod", py_mod);
    env.add_filter("__py_mod_tuple", py_mod_tuple);
    env.add_filter("__py_neg", py_neg);
    env.add_filter("__py_floordiv", py_floordiv);
    env.add_filter("__py_div", py_div);
    env.add_filter("__py_add", py_add);
    env.add_filter("__py_cat", py_cat);
    env.add_filter("__py_sub", py_sub);
    env.add_filter("__py_pow", py_pow);
    env.add_filter("__py_mul", py_mul);
    env.add_filter("__py_slice", py_slice);
    env.add_filter("__py_cmp", py_compare);
    env.add_filter("__py_in", py_in);
    env.add_filter("__py_pos", py_pos);
}

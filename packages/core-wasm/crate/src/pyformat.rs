//! Python's string formatting, as upstream's templates use it: `'%05d' % n` and
//! `'%s-%s' % (a, b)` (printf-style, also the `format` filter) and `'{:>5}'.format(x)`.

use crate::jinja_filters::text;
use crate::pyfmt::py_str;
use minijinja::value::{Value as JValue, ValueKind};
use minijinja::{Error as JError, ErrorKind};

fn type_error(msg: impl Into<String>) -> JError {
    JError::new(ErrorKind::InvalidOperation, msg.into())
}

fn repr(v: &JValue) -> String {
    let mut s = String::new();
    py_str(v, false, &mut s);
    s
}

fn type_name(v: &JValue) -> &'static str {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if v.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

/// A value as a Python int, for `%d` (floats truncate) or, `strict`, `%x`/`%o`/`%c` (ints only).
fn as_int(v: &JValue, conv: char, strict: bool) -> Result<i128, JError> {
    match v.kind() {
        ValueKind::Bool => Ok(v.is_true() as i128),
        ValueKind::Number if v.is_integer() => i128::try_from(v.clone()),
        ValueKind::Number if !strict => Ok(f64::try_from(v.clone())?.trunc() as i128),
        _ => Err(type_error(format!(
            "%{conv} format: {} is required, not {}",
            if strict { "an integer" } else { "a real number" },
            type_name(v)
        ))),
    }
}

fn as_float(v: &JValue, conv: char) -> Result<f64, JError> {
    match v.kind() {
        ValueKind::Bool | ValueKind::Number => f64::try_from(v.clone()),
        _ => Err(type_error(format!("must be real number, not {} (%{conv})", type_name(v)))),
    }
}

/// Exponent notation as Python prints it: `1.500000e+03`.
fn exp_form(x: f64, prec: usize, upper: bool) -> String {
    let s = format!("{x:.prec$e}");
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let out = format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    if upper {
        out.to_uppercase()
    } else {
        out
    }
}

/// `%g`: the shorter of fixed and exponent forms, trailing zeros dropped unless `alt`.
fn general(x: f64, prec: usize, upper: bool, alt: bool) -> String {
    let p = prec.max(1);
    let e_form = format!("{x:.0$e}", p - 1);
    let exp: i32 = e_form.split_once('e').and_then(|(_, e)| e.parse().ok()).unwrap_or(0);
    let mut s =
        if exp >= -4 && exp < p as i32 { format!("{x:.0$}", (p as i32 - 1 - exp).max(0) as usize) } else { exp_form(x, p - 1, upper) };
    if !alt {
        let (mant, rest) = match s.find(['e', 'E']) {
            Some(i) => (s[..i].to_string(), s[i..].to_string()),
            None => (s.clone(), String::new()),
        };
        if mant.contains('.') {
            s = format!("{}{rest}", mant.trim_end_matches('0').trim_end_matches('.'));
        }
    }
    s
}

fn special(x: f64, upper: bool) -> Option<String> {
    let s = if x.is_nan() {
        "nan"
    } else if x.is_infinite() {
        if x > 0.0 {
            "inf"
        } else {
            "-inf"
        }
    } else {
        return None;
    };
    Some(if upper { s.to_uppercase() } else { s.into() })
}

/// A float in a fixed (`f`), exponent (`e`) or general (`g`) form, without sign handling.
fn float_body(x: f64, kind: char, prec: Option<usize>, alt: bool) -> String {
    let upper = kind.is_ascii_uppercase();
    if let Some(s) = special(x.abs(), upper) {
        return s;
    }
    let a = x.abs();
    match kind.to_ascii_lowercase() {
        'f' => {
            let s = format!("{a:.0$}", prec.unwrap_or(6));
            if alt && !s.contains('.') {
                s + "."
            } else {
                s
            }
        }
        'e' => exp_form(a, prec.unwrap_or(6), upper),
        _ => general(a, prec.unwrap_or(6), upper, alt),
    }
}

/// Sign, zero padding and alignment of a formatted number or text.
struct Layout {
    fill: char,
    align: char,
    sign: char,
    zero: bool,
    width: usize,
}

impl Layout {
    fn apply(&self, negative: bool, prefix: &str, body: &str, numeric: bool) -> String {
        let sign = if !numeric {
            ""
        } else if negative {
            "-"
        } else {
            match self.sign {
                '+' => "+",
                ' ' => " ",
                _ => "",
            }
        };
        let head = format!("{sign}{prefix}");
        let len = head.chars().count() + body.chars().count();
        if len >= self.width {
            return format!("{head}{body}");
        }
        let pad = self.width - len;
        let fill = |n: usize| std::iter::repeat_n(self.fill, n).collect::<String>();
        if self.zero && numeric {
            return format!("{head}{}{body}", "0".repeat(pad));
        }
        match self.align {
            '<' => format!("{head}{body}{}", fill(pad)),
            '^' => format!("{}{head}{body}{}", fill(pad / 2), fill(pad - pad / 2)),
            '=' => format!("{head}{}{body}", fill(pad)),
            _ => format!("{}{head}{body}", fill(pad)),
        }
    }
}

/// One `%` conversion of `v`.
fn convert(v: &JValue, conv: char, flags: &str, width: usize, prec: Option<usize>) -> Result<String, JError> {
    let layout = Layout {
        fill: ' ',
        align: if flags.contains('-') { '<' } else { '>' },
        sign: if flags.contains('+') {
            '+'
        } else if flags.contains(' ') {
            ' '
        } else {
            '-'
        },
        zero: flags.contains('0') && !flags.contains('-'),
        width,
    };
    let alt = flags.contains('#');
    Ok(match conv {
        's' | 'r' | 'a' => {
            let mut s = if conv == 's' { text(v) } else { repr(v) };
            if let Some(p) = prec {
                s = s.chars().take(p).collect();
            }
            layout.apply(false, "", &s, false)
        }
        'd' | 'i' | 'u' => {
            let n = as_int(v, conv, false)?;
            layout.apply(n < 0, "", &n.unsigned_abs().to_string(), true)
        }
        'x' | 'X' | 'o' => {
            let n = as_int(v, conv, true)?;
            let (body, prefix) = match conv {
                'x' => (format!("{:x}", n.unsigned_abs()), "0x"),
                'X' => (format!("{:X}", n.unsigned_abs()), "0X"),
                _ => (format!("{:o}", n.unsigned_abs()), "0o"),
            };
            layout.apply(n < 0, if alt { prefix } else { "" }, &body, true)
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
            let x = as_float(v, conv)?;
            layout.apply(x.is_sign_negative() && !x.is_nan(), "", &float_body(x, conv, prec, alt), true)
        }
        'c' => {
            let c = match v.as_str() {
                Some(s) if s.chars().count() == 1 => s.to_string(),
                Some(_) => return Err(type_error("%c requires an int or a unicode character")),
                None => {
                    char::from_u32(as_int(v, 'c', true)? as u32).ok_or_else(|| type_error("%c arg not in range(0x110000)"))?.to_string()
                }
            };
            layout.apply(false, "", &c, false)
        }
        other => return Err(type_error(format!("unsupported format character '{other}'"))),
    })
}

/// A dict view (`.items()`): not a mapping to Python's `%`, unlike a list.
fn is_view(v: &JValue) -> bool {
    v.downcast_object_ref::<crate::pyfmt::PyTuple>().is_some_and(|t| !t.is_tuple())
}

/// Python's `fmt % args`: `args` is the tuple's items when `tuple`, else the one value (a mapping
/// also serves `%(key)s`).
pub fn percent(fmt: &str, args: &JValue, tuple: bool) -> Result<String, JError> {
    let mut positional = Positional { values: if tuple { args.try_iter()?.collect() } else { vec![args.clone()] }, next: 0 };
    let mapping = (!tuple && args.kind() == ValueKind::Map).then_some(args);
    let mut used_key = false;
    let mut out = String::with_capacity(fmt.len());
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let key = percent_key(&mut chars);
        let mut flags = String::new();
        while let Some(&f) = chars.peek().filter(|f| "-+ #0".contains(**f)) {
            flags.push(f);
            chars.next();
        }
        let width = positional.number(&mut chars)?.unwrap_or(0);
        let prec = if chars.peek() == Some(&'.') {
            chars.next();
            Some(positional.number(&mut chars)?.unwrap_or(0))
        } else {
            None
        };
        while chars.peek().is_some_and(|c| "hlL".contains(*c)) {
            chars.next();
        }
        let conv = chars.next().ok_or_else(|| type_error("incomplete format"))?;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let value = match &key {
            Some(k) => {
                used_key = true;
                let m = mapping.ok_or_else(|| type_error("format requires a mapping"))?;
                m.get_item(&JValue::from(k.as_str()))
                    .ok()
                    .filter(|v| !v.is_undefined())
                    .ok_or_else(|| type_error(format!("KeyError: '{k}'")))?
            }
            None => positional.take()?,
        };
        crate::jinja_filters::defined(&value)?;
        out.push_str(&convert(&value, conv, &flags, width, prec)?);
    }
    // As Python: a list or dict on the right (not a tuple) is never "not all converted".
    if positional.next < positional.values.len()
        && !used_key
        && (tuple || !matches!(args.kind(), ValueKind::Seq | ValueKind::Map | ValueKind::Iterable | ValueKind::Undefined) || is_view(args))
    {
        return Err(type_error("not all arguments converted during string formatting"));
    }
    Ok(out)
}

/// The `(key)` of a `%(key)s` conversion, right after the `%` (parentheses inside it nest).
fn percent_key(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<String> {
    if chars.peek() != Some(&'(') {
        return None;
    }
    chars.next();
    let mut depth = 1;
    let mut k = String::new();
    for c in chars.by_ref() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth == 0 {
            break;
        }
        k.push(c);
    }
    Some(k)
}

/// The positional arguments of `%` formatting, taken in order.
struct Positional {
    values: Vec<JValue>,
    next: usize,
}

impl Positional {
    fn take(&mut self) -> Result<JValue, JError> {
        let v = self.values.get(self.next).cloned().ok_or_else(|| type_error("not enough arguments for format string"))?;
        self.next += 1;
        Ok(v)
    }

    /// A width or precision: digits, or `*` (the next argument).
    fn number(&mut self, chars: &mut std::iter::Peekable<std::str::Chars>) -> Result<Option<usize>, JError> {
        if chars.peek() == Some(&'*') {
            chars.next();
            let v = self.take()?;
            return Ok(Some(as_int(&v, '*', true)?.max(0) as usize));
        }
        let mut n = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            n.push(d);
            chars.next();
        }
        Ok(n.parse().ok())
    }
}

/// A parsed format spec: layout, `#`, grouping, precision, type.
type Spec = (Layout, bool, Option<char>, Option<usize>, Option<char>);

/// Parses a format spec: `[[fill]align][sign][#][0][width][,|_][.precision][type]`.
fn parse_spec(spec: &str) -> Result<Spec, JError> {
    let cs: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut layout = Layout { fill: ' ', align: '\0', sign: '-', zero: false, width: 0 };
    if cs.len() >= 2 && "<>^=".contains(cs[1]) {
        layout.fill = cs[0];
        layout.align = cs[1];
        i = 2;
    } else if !cs.is_empty() && "<>^=".contains(cs[0]) {
        layout.align = cs[0];
        i = 1;
    }
    if i < cs.len() && "+- ".contains(cs[i]) {
        layout.sign = cs[i];
        i += 1;
    }
    let alt = i < cs.len() && cs[i] == '#';
    if alt {
        i += 1;
    }
    if i < cs.len() && cs[i] == '0' {
        layout.zero = layout.align == '\0';
        if layout.align == '\0' {
            layout.fill = '0';
            layout.align = '=';
        }
        i += 1;
    }
    let mut n = String::new();
    while i < cs.len() && cs[i].is_ascii_digit() {
        n.push(cs[i]);
        i += 1;
    }
    layout.width = n.parse().unwrap_or(0);
    let grouping = (i < cs.len() && (cs[i] == ',' || cs[i] == '_')).then(|| {
        i += 1;
        cs[i - 1]
    });
    let mut prec = None;
    if i < cs.len() && cs[i] == '.' {
        let mut p = String::new();
        i += 1;
        while i < cs.len() && cs[i].is_ascii_digit() {
            p.push(cs[i]);
            i += 1;
        }
        prec = Some(p.parse().map_err(|_| type_error("Format specifier missing precision"))?);
    }
    let ty = cs.get(i).copied();
    if cs.len() > i + 1 {
        return Err(type_error("Invalid format specifier"));
    }
    layout.zero = false;
    Ok((layout, alt, grouping, prec, ty))
}

fn group(digits: &str, sep: char) -> String {
    let (int, frac) = digits.split_once('.').map_or((digits, None), |(a, b)| (a, Some(b)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{out}.{f}"),
        None => out,
    }
}

/// Python's `format(value, spec)`.
fn format_value(v: &JValue, spec: &str) -> Result<String, JError> {
    let (mut layout, alt, grouping, prec, ty) = parse_spec(spec)?;
    let numeric = matches!(v.kind(), ValueKind::Number | ValueKind::Bool) && !(v.kind() == ValueKind::Bool && ty.is_none());
    if layout.align == '\0' {
        layout.align = if numeric { '>' } else { '<' };
    }
    if !numeric {
        if ty.is_some_and(|t| t != 's') {
            return Err(type_error(format!("Unknown format code '{}' for object of type '{}'", ty.unwrap_or('s'), type_name(v))));
        }
        let mut s = text(v);
        if let Some(p) = prec {
            s = s.chars().take(p).collect();
        }
        return Ok(layout.apply(false, "", &s, false));
    }
    let int_like = v.is_integer() || v.kind() == ValueKind::Bool;
    let (neg, prefix, mut body) = match ty {
        Some('d' | 'n') if int_like => {
            let n = i128::try_from(v.clone())?;
            (n < 0, "", n.unsigned_abs().to_string())
        }
        Some(t @ ('x' | 'X' | 'o' | 'b')) if int_like => {
            let n = i128::try_from(v.clone())?;
            let a = n.unsigned_abs();
            let (b, p) = match t {
                'x' => (format!("{a:x}"), "0x"),
                'X' => (format!("{a:X}"), "0X"),
                'o' => (format!("{a:o}"), "0o"),
                _ => (format!("{a:b}"), "0b"),
            };
            (n < 0, if alt { p } else { "" }, b)
        }
        None if int_like => {
            let n = i128::try_from(v.clone())?;
            (n < 0, "", n.unsigned_abs().to_string())
        }
        Some('%') => {
            let x = f64::try_from(v.clone())? * 100.0;
            (x < 0.0, "", format!("{}%", float_body(x, 'f', prec, alt)))
        }
        Some(t @ ('e' | 'E' | 'f' | 'F' | 'g' | 'G')) => {
            let x = f64::try_from(v.clone())?;
            (x.is_sign_negative() && !x.is_nan(), "", float_body(x, t, prec, alt))
        }
        None => {
            let x = f64::try_from(v.clone())?;
            let body = match prec {
                Some(p) => float_body(x, 'g', Some(p), alt),
                None => text(&JValue::from(x.abs())),
            };
            (x.is_sign_negative() && !x.is_nan(), "", body)
        }
        Some(t) => return Err(type_error(format!("Unknown format code '{t}' for object of type '{}'", type_name(v)))),
    };
    if let Some(sep) = grouping {
        body = group(&body, sep);
    }
    Ok(layout.apply(neg, prefix, &body, true))
}

/// Python's `fmt.format(*args, **kwargs)`.
pub fn str_format(fmt: &str, args: &[JValue], kwargs: &[(String, JValue)]) -> Result<String, JError> {
    let mut out = String::new();
    let mut auto = 0;
    let mut rest = fmt;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let c = rest.as_bytes()[i];
        if rest.as_bytes().get(i + 1) == Some(&c) {
            out.push(c as char);
            rest = &rest[i + 2..];
            continue;
        }
        if c == b'}' {
            return Err(type_error("Single '}' encountered in format string"));
        }
        let end = rest[i..].find('}').ok_or_else(|| type_error("Single '{' encountered in format string"))? + i;
        let field = &rest[i + 1..end];
        rest = &rest[end + 1..];
        let (field, spec) = field.split_once(':').unwrap_or((field, ""));
        let (field, conv) = match field.split_once('!') {
            Some((f, c)) => (f, Some(c)),
            None => (field, None),
        };
        let name_end = field.find(['.', '[']).unwrap_or(field.len());
        let (name, mut path) = (&field[..name_end], &field[name_end..]);
        let mut value = if name.is_empty() {
            auto += 1;
            args.get(auto - 1)
                .cloned()
                .ok_or_else(|| type_error(format!("Replacement index {} out of range for positional args tuple", auto - 1)))?
        } else if let Ok(n) = name.parse::<usize>() {
            args.get(n).cloned().ok_or_else(|| type_error(format!("Replacement index {n} out of range for positional args tuple")))?
        } else {
            kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).ok_or_else(|| type_error(format!("KeyError: '{name}'")))?
        };
        while !path.is_empty() {
            if let Some(p) = path.strip_prefix('.') {
                let e = p.find(['.', '[']).unwrap_or(p.len());
                value = value.get_attr(&p[..e])?;
                path = &p[e..];
            } else if let Some(p) = path.strip_prefix('[') {
                let e = p.find(']').ok_or_else(|| type_error("Missing ']' in format string"))?;
                let key = &p[..e];
                value = match key.parse::<i64>() {
                    Ok(n) => value.get_item(&JValue::from(n))?,
                    Err(_) => value.get_item(&JValue::from(key))?,
                };
                path = &p[e + 1..];
            } else {
                return Err(type_error("Only '.' or '[' may follow ']' in format field specifier"));
            }
        }
        let value = match conv {
            None => value,
            Some("s") => JValue::from(text(&value)),
            Some("r" | "a") => JValue::from(repr(&value)),
            Some(c) => return Err(type_error(format!("Unknown conversion specifier {c}"))),
        };
        out.push_str(&format_value(&value, spec)?);
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v<T: Into<JValue>>(x: T) -> JValue {
        x.into()
    }

    #[test]
    fn percent_formatting_as_python() {
        assert_eq!(percent("%05d", &v(42), false).unwrap(), "00042");
        assert_eq!(percent("%s-%s", &JValue::from(vec![v("a"), v(2)]), true).unwrap(), "a-2");
        assert_eq!(percent("%.2f|%5.1f|%-4s|", &JValue::from(vec![v(2.5), v(3.25159), v("x")]), true).unwrap(), "2.50|  3.3|x   |");
        assert_eq!(
            percent("%x %o %e %g %+d %%", &JValue::from(vec![v(255), v(8), v(1500.0), v(0.0001), v(3)]), true).unwrap(),
            "ff 10 1.500000e+03 0.0001 +3 %"
        );
        assert_eq!(percent("%d items", &v(1e3), false).unwrap(), "1000 items");
        assert_eq!(percent("%r", &v("a"), false).unwrap(), "'a'");
        assert!(percent("%d", &v("x"), false).is_err());
        assert!(percent("%s %s", &v(1), false).is_err());
        assert!(percent("x", &v(1), false).is_err());
    }

    #[test]
    fn str_format_as_python() {
        assert_eq!(str_format("{} and {}", &[v("a"), v(1)], &[]).unwrap(), "a and 1");
        assert_eq!(str_format("{name}!", &[], &[("name".into(), v("N"))]).unwrap(), "N!");
        assert_eq!(
            str_format("{:>5}|{:.2f}|{:,}|{:08.3f}|{:^7}|{{}}", &[v(7), v(2.5), v(1234567), v(-3.25159), v("mid")], &[]).unwrap(),
            "    7|2.50|1,234,567|-003.252|  mid  |{}"
        );
    }
}
